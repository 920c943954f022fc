-- The shop backend's tables.
CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, description TEXT NOT NULL,
                       price_cents INTEGER NOT NULL, stock INTEGER NOT NULL, added TEXT NOT NULL);
CREATE TABLE customers (username TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE, phone TEXT NOT NULL,
                        street TEXT NOT NULL, city TEXT NOT NULL, region TEXT NOT NULL, postcode TEXT NOT NULL,
                        since TEXT NOT NULL, staff INTEGER NOT NULL);
CREATE TABLE cart_items (id INTEGER PRIMARY KEY, username TEXT NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL,
                         UNIQUE (username, sku));
CREATE TABLE orders (id TEXT PRIMARY KEY, customer TEXT NOT NULL, placed_at TEXT NOT NULL, status TEXT NOT NULL,
                     delivered_at TEXT, shipping_cents INTEGER NOT NULL, subtotal_cents INTEGER NOT NULL,
                     total_cents INTEGER NOT NULL, refunded_cents INTEGER NOT NULL, ship_to TEXT NOT NULL);
CREATE INDEX orders_customer ON orders (customer);
CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id TEXT NOT NULL, sku TEXT NOT NULL, name TEXT NOT NULL,
                          quantity INTEGER NOT NULL, unit_price_cents INTEGER NOT NULL, refunded_quantity INTEGER NOT NULL,
                          UNIQUE (order_id, sku));
CREATE TABLE returns (id TEXT PRIMARY KEY, order_id TEXT NOT NULL, customer TEXT NOT NULL, sku TEXT NOT NULL,
                      quantity INTEGER NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE refunds (id TEXT PRIMARY KEY, order_id TEXT NOT NULL, sku TEXT, quantity INTEGER NOT NULL,
                      amount_cents INTEGER NOT NULL, reason TEXT NOT NULL, return_id TEXT, restocked INTEGER NOT NULL,
                      created_at TEXT NOT NULL, created_by TEXT NOT NULL);
