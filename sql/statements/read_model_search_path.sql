-- $1 text  the store's schema, quoted as an identifier
-- For the rest of a projection's transaction only: the user's handler and reset name their
-- read model's tables unqualified, and find them in the store's schema as they always did.
-- Local to the transaction, so nothing is left on a server connection a pooler shares.
SELECT set_config('search_path', $1, true)
