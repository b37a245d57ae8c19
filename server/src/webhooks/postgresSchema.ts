import type { Migration } from '../persistence/postgres/PgDatabase.ts'

/**
 * The webhook outbox's tables in PostgreSQL (docs/PROTOCOL.md §9.6, SPEC R67); main.ts passes
 * them to PgDatabase.open with the other modules' migrations. Applied migrations are never
 * edited: a change is a new migration at the end of the list.
 *
 * Records are the same JSON as LevelDB's values; the columns beside them are what queries select
 * and order by. Times are milliseconds since the epoch on the nodes' clocks. A pending delivery
 * is due at `due_at`: its retry time, or the end of the claim of an attempt in flight, so a node
 * that died mid-attempt leaves it due again once the claim's lease has run out. Deliveries have
 * no foreign key to their endpoint: a delivery queued by one node while another removed its
 * endpoint is skipped on insert, or dropped when a worker finds its endpoint gone.
 */
export const webhookMigrations: readonly Migration[] = [
  {
    id: 'webhooks/001-outbox',
    sql: `
      CREATE TABLE tandem_webhook_endpoints (
        id text COLLATE "C" PRIMARY KEY,
        record jsonb NOT NULL
      );
      CREATE TABLE tandem_webhook_deliveries (
        endpoint_id text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
        next_attempt_at bigint,
        claim_token text,
        claimed_until bigint,
        due_at bigint GENERATED ALWAYS AS (GREATEST(next_attempt_at, claimed_until)) STORED,
        record jsonb NOT NULL,
        PRIMARY KEY (endpoint_id, id)
      );
      CREATE INDEX tandem_webhook_deliveries_due
        ON tandem_webhook_deliveries (due_at, endpoint_id, id) WHERE state = 'pending';
      CREATE TABLE tandem_webhook_windows (
        doc_id text COLLATE "C" NOT NULL,
        window_id text COLLATE "C" NOT NULL,
        record jsonb NOT NULL,
        holder text NOT NULL,
        held_until bigint NOT NULL,
        PRIMARY KEY (doc_id, window_id)
      );
    `,
  },
]
