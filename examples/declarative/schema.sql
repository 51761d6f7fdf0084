-- Desired state of the shop database (PostgreSQL). The operator plans and applies the diff.
CREATE TABLE customers (
  id bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  total_cents bigint NOT NULL CHECK (total_cents >= 0),
  placed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX orders_customer_id ON orders (customer_id);
