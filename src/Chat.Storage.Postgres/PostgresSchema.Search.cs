namespace Chat.Storage.Postgres;

internal static partial class PostgresSchema
{
    /// <summary>
    /// Search (migration 2). unaccent is contrib (Debian ships it in postgresql-NN): installed once per database, in
    /// public, under a database-wide lock because schemas side by side (tests, tenants) migrate concurrently.
    /// unaccent() itself is only STABLE (its dictionary could change), so the index uses an IMMUTABLE wrapper that names
    /// the dictionary, wherever the extension lives. Content is folded (lower case, no diacritics) and every character
    /// that is not a letter or digit becomes a space before the 'simple' parser sees it: its words are then exactly
    /// the protocol's words (letters and digits), as FTS5's unicode61 splits them on SQLite. Rows stored before this
    /// migration are indexed after it by <see cref="PostgresChatStore"/> in chunks (search_backfill marks the work).
    /// </summary>
    private const string Search = """
        SELECT pg_advisory_xact_lock(hashtext('chat-extension-unaccent'));
        CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;
        DO $do$
        DECLARE ext_schema text;
        BEGIN
            SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent';
            EXECUTE format($f$
                CREATE FUNCTION chat_search_text(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $body$
                    SELECT regexp_replace(%1$I.unaccent(%2$L::regdictionary, lower(t)), '[^[:alnum:]]+', ' ', 'g')
                $body$ $f$, ext_schema, quote_ident(ext_schema) || '.unaccent');
        END $do$;

        ALTER TABLE messages ADD COLUMN search tsvector;
        CREATE FUNCTION chat_messages_search() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.search := to_tsvector('simple', chat_search_text(NEW.content));
            RETURN NEW;
        END $$;
        CREATE TRIGGER messages_search_insert BEFORE INSERT ON messages
            FOR EACH ROW EXECUTE FUNCTION chat_messages_search();
        CREATE TRIGGER messages_search_update BEFORE UPDATE OF content ON messages
            FOR EACH ROW WHEN (OLD.content IS DISTINCT FROM NEW.content) EXECUTE FUNCTION chat_messages_search();
        CREATE INDEX messages_search ON messages USING gin(search);
        CREATE TABLE search_backfill(pending int NOT NULL);
        INSERT INTO search_backfill VALUES(1);
        """;
}
