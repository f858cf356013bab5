-- Takes the $all row lock that orders every write transaction; returns the last global position.
SELECT stream_version AS last_position FROM streams WHERE stream_id = 0 FOR UPDATE
