-- The bank backend's tables.
CREATE TABLE accounts (id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, routing_number TEXT NOT NULL, name TEXT NOT NULL,
                       kind TEXT NOT NULL, owner TEXT NOT NULL, balance_cents INTEGER NOT NULL, currency TEXT NOT NULL);
CREATE TABLE holders (id INTEGER PRIMARY KEY, account TEXT NOT NULL, username TEXT NOT NULL, UNIQUE (account, username));
CREATE TABLE payees (id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, bank_name TEXT NOT NULL,
                     account_number TEXT NOT NULL, routing_number TEXT NOT NULL, email TEXT, created_at TEXT NOT NULL);
CREATE TABLE transfers (id TEXT PRIMARY KEY, from_account TEXT NOT NULL, payee TEXT, to_account TEXT,
                        amount_cents INTEGER NOT NULL, memo TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
                        created_by TEXT NOT NULL, decided_at TEXT, decided_by TEXT, failure TEXT,
                        scheduled_for TEXT);  -- a future-dated transfer (status scheduled): the day it is to be sent
CREATE TABLE transactions (id TEXT PRIMARY KEY, account TEXT NOT NULL, posted_at TEXT NOT NULL, description TEXT NOT NULL,
                           amount_cents INTEGER NOT NULL, balance_after_cents INTEGER NOT NULL, counterparty TEXT NOT NULL,
                           transfer TEXT);
CREATE INDEX transactions_account ON transactions (account, posted_at);
