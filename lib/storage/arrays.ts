// Array parameters as PostgreSQL array literals, cast in the statements ($1::text[]). The
// driver infers an array's type from a catalogue it fetches on each new connection; a
// connection lost during that fetch left it empty, and arrays went out as plain text
// ("malformed array literal"). Literals we build need no catalogue (fetch_types is off).

/** Numbers or checked UUIDs, which need no quoting. */
export const plainArray = (values: readonly (number | string | null)[]): string => `{${values.map((v) => v ?? 'NULL').join(',')}}`

/** Any texts: each quoted, with `"` and `\` escaped. */
export const textArray = (values: readonly string[]): string => `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`
