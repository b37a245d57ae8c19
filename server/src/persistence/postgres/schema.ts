import type { Migration } from './migrate.ts'

/**
 * Tandem's tables in PostgreSQL (docs/PROTOCOL.md §5.1, SPEC R64), one migration list per
 * module; main.ts passes them all to PgDatabase.open. Applied migrations are never edited: a
 * change is a new migration at the end of its list.
 *
 * Documents: `key` is the document's row for this life of the id; the log and the writer
 * bindings refer to it, so a compaction still running on another node when the document is
 * deleted and created again under the same id can never touch the new document's rows. Ids use
 * the "C" collation: listing and its cursor follow byte order, as with LevelDB, on every server
 * locale. Times are milliseconds since the epoch, as in DocMeta.
 */
export const docMigrations: readonly Migration[] = [
  {
    id: 'docs/001-tables',
    sql: `
      CREATE TABLE tandem_docs (
        id text COLLATE "C" PRIMARY KEY,
        key bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        version bigint NOT NULL DEFAULT 0,
        link_key text NOT NULL DEFAULT '',
        stored_bytes bigint NOT NULL DEFAULT 0,
        log_length integer NOT NULL DEFAULT 0,
        compacted_bytes bigint
      );
      CREATE TABLE tandem_doc_updates (
        doc_key bigint NOT NULL REFERENCES tandem_docs (key) ON DELETE CASCADE,
        seq bigint NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (doc_key, seq)
      );
      CREATE TABLE tandem_doc_writers (
        doc_key bigint NOT NULL REFERENCES tandem_docs (key) ON DELETE CASCADE,
        client_id bigint NOT NULL,
        writer_key text NOT NULL,
        PRIMARY KEY (doc_key, client_id)
      );
    `,
  },
]

/** Version history (SPEC R62): metadata in columns, so a listing never reads a state. */
export const versionMigrations: readonly Migration[] = [
  {
    id: 'versions/001-tables',
    sql: `
      CREATE TABLE tandem_versions (
        doc_id text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        created_at bigint NOT NULL,
        kind text NOT NULL CHECK (kind IN ('named', 'auto')),
        name text,
        cause text,
        authors text[] NOT NULL,
        bytes integer NOT NULL,
        state bytea NOT NULL,
        PRIMARY KEY (doc_id, id)
      );
    `,
  },
]

/** Cluster-wide settings, written once by whichever node needs one first (the link secret). */
export const settingsMigrations: readonly Migration[] = [
  {
    id: 'settings/001-table',
    sql: 'CREATE TABLE tandem_settings (name text PRIMARY KEY, value bytea NOT NULL)',
  },
]
