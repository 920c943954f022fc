-- The mail backend's tables: mailboxes and who may use them, mailing lists, folders, messages, attachments.
CREATE TABLE mailboxes (address TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL);
CREATE TABLE mailbox_access (id INTEGER PRIMARY KEY, mailbox TEXT NOT NULL, username TEXT NOT NULL,
                             UNIQUE (mailbox, username));
CREATE TABLE lists (address TEXT PRIMARY KEY, members TEXT NOT NULL);
CREATE TABLE folders (id INTEGER PRIMARY KEY, mailbox TEXT NOT NULL, name TEXT NOT NULL, system INTEGER NOT NULL,
                      UNIQUE (mailbox, name));
CREATE TABLE messages (id INTEGER PRIMARY KEY, mailbox TEXT NOT NULL, folder TEXT NOT NULL, message_id TEXT NOT NULL,
                       thread_id TEXT NOT NULL, in_reply_to TEXT, sender TEXT NOT NULL, recipients TEXT NOT NULL,
                       cc TEXT NOT NULL, bcc TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, date TEXT NOT NULL,
                       is_read INTEGER NOT NULL, flagged INTEGER NOT NULL, draft INTEGER NOT NULL);
CREATE INDEX messages_box ON messages (mailbox, folder, date);
CREATE TABLE attachments (id INTEGER PRIMARY KEY, message INTEGER NOT NULL, filename TEXT NOT NULL,
                          content_type TEXT NOT NULL, size INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX attachments_message ON attachments (message);
