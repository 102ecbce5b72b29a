-- The read of every token request (src/repositories/clients-repository.ts): the client by id ($1)
-- and, for a password grant, the user by lower-cased e-mail ($2; NULL for none) with the client id
-- of the user's reseller. Always one row of the same shape: an unknown client id reads
-- placeholders of a reseller client, sized as real values are (a sealed 40-character secret is 92
-- base64 characters), so a known client id is not measurably slower to refuse than an unknown
-- one (an existence oracle on /oauth/token and /oauth/revoke); no user is NULLs.
--
-- A PL/pgSQL function because PL/pgSQL keeps its statements' plans for the life of the
-- connection (PostgreSQL manual, "PL/pgSQL Under the Hood", Plan Caching): planning this join
-- cost several times its execution on every request. A named prepared statement would keep the
-- plan too, but not through PgBouncer in transaction mode (docs/database.md).
--
-- A migration that changes these columns re-creates the function (CREATE OR REPLACE).
CREATE FUNCTION "token_request_read"(integer, text)
RETURNS TABLE (
  "id" integer, "kind" text, "name" text, "grants" text[], "allowedNetworks" text[], "active" boolean,
  "secretCiphertext" text, "secretKeyId" text, "secretHash" text, "resellerId" text,
  "userId" integer, "userEmail" text, "userName" text, "userResellerId" text, "userClientId" integer,
  "userPasswordHash" text, "userActive" boolean
)
LANGUAGE plpgsql STABLE AS $function$
BEGIN
  RETURN QUERY
  SELECT c.id, COALESCE(c.kind::text, 'reseller'), COALESCE(c.name, 'Revenda placeholder'),
         COALESCE(c.grants, ARRAY['password', 'refresh_token']), COALESCE(c.allowed_networks, ARRAY['127.0.0.1/32']),
         COALESCE(c.active, false),
         CASE WHEN c.id IS NULL THEN repeat('A', 92) ELSE c.secret_ciphertext END,
         CASE WHEN c.id IS NULL THEN repeat('0', 16) ELSE c.secret_key_id END,
         c.secret_hash, CASE WHEN c.id IS NULL THEN 'placeholder' ELSE r.reseller_id END,
         u.id, u.email, u.name, u.reseller_id, ur.client_id, u.password_hash, u.active
  FROM (SELECT 1) AS one
  LEFT JOIN clients c ON c.id = $1
  LEFT JOIN resellers r ON r.client_id = c.id
  LEFT JOIN users u ON u.email = $2
  LEFT JOIN resellers ur ON ur.reseller_id = u.reseller_id;
END
$function$;
