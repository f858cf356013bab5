-- $1 int   page size
-- $2 int   rows to skip
-- $3 text  sort column: streamId | streamVersion | createdAt | deletedAt
-- $4 text  sort direction: asc | desc
-- $5 text  ILIKE pattern on the stream id ('%' for all)
-- One row per stream of the page (or one row of NULLs when the page is empty), each with the
-- total count of matching streams; $all and hard-deleted streams are not listed.
WITH matching AS (
  SELECT stream_id, stream_uuid, stream_version, created_at, deleted_at
  FROM {schema}.streams
  WHERE stream_id > 0 AND stream_uuid ILIKE $5
)
SELECT page.stream_uuid, page.stream_version, page.created_at, page.deleted_at, counted.total
FROM (SELECT count(*) AS total FROM matching) AS counted
LEFT JOIN LATERAL (
  SELECT * FROM matching
  ORDER BY
    CASE WHEN $3 = 'streamId' AND $4 = 'asc' THEN stream_uuid END ASC,
    CASE WHEN $3 = 'streamId' AND $4 = 'desc' THEN stream_uuid END DESC,
    CASE WHEN $3 = 'streamVersion' AND $4 = 'asc' THEN stream_version END ASC,
    CASE WHEN $3 = 'streamVersion' AND $4 = 'desc' THEN stream_version END DESC,
    CASE WHEN $3 = 'createdAt' AND $4 = 'asc' THEN created_at END ASC,
    CASE WHEN $3 = 'createdAt' AND $4 = 'desc' THEN created_at END DESC,
    CASE WHEN $3 = 'deletedAt' AND $4 = 'asc' THEN deleted_at END ASC NULLS LAST,
    CASE WHEN $3 = 'deletedAt' AND $4 = 'desc' THEN deleted_at END DESC NULLS LAST,
    stream_id
  LIMIT $1 OFFSET $2
) AS page ON true
