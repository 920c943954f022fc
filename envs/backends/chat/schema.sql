-- The chat backend's tables.
CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, real_name TEXT NOT NULL, display_name TEXT NOT NULL,
                    email TEXT NOT NULL, title TEXT NOT NULL, tz TEXT NOT NULL, deleted INTEGER NOT NULL);
CREATE TABLE channels (id TEXT PRIMARY KEY, name TEXT NOT NULL, is_private INTEGER NOT NULL, is_im INTEGER NOT NULL,
                       topic TEXT NOT NULL, purpose TEXT NOT NULL, creator TEXT NOT NULL, created INTEGER NOT NULL,
                       is_archived INTEGER NOT NULL);
CREATE TABLE members (id INTEGER PRIMARY KEY, channel TEXT NOT NULL, user TEXT NOT NULL, UNIQUE (channel, user));
CREATE TABLE messages (ts TEXT PRIMARY KEY, channel TEXT NOT NULL, user TEXT NOT NULL, text TEXT NOT NULL, thread_ts TEXT,
                       edited_ts TEXT);
CREATE INDEX messages_channel ON messages (channel, ts);
CREATE TABLE reactions (id INTEGER PRIMARY KEY, message TEXT NOT NULL, name TEXT NOT NULL, user TEXT NOT NULL,
                        UNIQUE (message, name, user));
