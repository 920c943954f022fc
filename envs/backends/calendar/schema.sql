-- The calendar backend's tables.
CREATE TABLE calendars (username TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, timezone TEXT NOT NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, organizer TEXT NOT NULL, title TEXT NOT NULL,
                     description TEXT NOT NULL, location TEXT NOT NULL, start TEXT NOT NULL, "end" TEXT NOT NULL,
                     timezone TEXT NOT NULL, status TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL,
                     recurrence TEXT);  -- a series: JSON list of RRULE/EXDATE lines (NULL: a single event)
CREATE INDEX events_time ON events (start, "end");
CREATE TABLE attendees (id INTEGER PRIMARY KEY, event INTEGER NOT NULL, username TEXT NOT NULL, status TEXT NOT NULL,
                        comment TEXT, responded_at TEXT, UNIQUE (event, username));
CREATE INDEX attendees_user ON attendees (username);
-- One instance of a series changed on its own (cancelled, or moved/edited: NULL fields keep the series' value).
CREATE TABLE event_exceptions (id INTEGER PRIMARY KEY, event INTEGER NOT NULL, original_start TEXT NOT NULL,
                               status TEXT NOT NULL, start TEXT, "end" TEXT, title TEXT, description TEXT, location TEXT,
                               updated TEXT NOT NULL, UNIQUE (event, original_start));
