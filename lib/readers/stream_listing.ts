// store.streamInfo and store.paginateStreams: what streams exist, read by a reader worker.
import { InvalidArgumentError, StreamNotFoundError } from '../errors.js'
import { describe } from '../expected_version.js'
import { toStreamInfo } from '../storage/read.js'
import type { CallOptions, PaginateOptions, StreamInfo, StreamPage } from '../types.js'
import { checkCallOptions, checkCount, checkPlainObject, checkText } from '../validation.js'
import type { ReaderPool } from './reader_pool.js'

const SORT_KEYS = ['streamId', 'streamVersion', 'createdAt', 'deletedAt']

/** A stream's version and status; `$all`'s version is the last global position. */
export async function streamInfo(readers: ReaderPool, streamId: string, call: CallOptions): Promise<StreamInfo> {
  const result = await readers.run({ op: 'stream_info', streamId }, call)
  const info = result.status === 'info' ? result.info : null
  if (!info) throw new StreamNotFoundError(`stream "${streamId}" does not exist`, { streamId })
  return toStreamInfo(info)
}

/** One page of the stream list; `$all` and hard-deleted streams are not listed. */
export async function paginateStreams(readers: ReaderPool, options: PaginateOptions): Promise<StreamPage> {
  const o = checkPlainObject(options, 'options') as PaginateOptions
  const page = checkCount(o.page ?? 1, 'page')
  const pageSize = checkCount(o.pageSize ?? 50, 'pageSize')
  const sortBy = o.sortBy ?? 'createdAt'
  if (!SORT_KEYS.includes(sortBy)) throw new InvalidArgumentError(`sortBy must be streamId, streamVersion, createdAt or deletedAt; got ${describe(sortBy)}`)
  const sortDir = o.sortDir ?? 'asc'
  if (sortDir !== 'asc' && sortDir !== 'desc') throw new InvalidArgumentError(`sortDir must be 'asc' or 'desc'; got ${describe(sortDir)}`)
  const search = o.search === undefined || o.search === '' ? '' : checkText(o.search, 'search')
  const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
  const call = checkCallOptions({ signal: o.signal, timeout: o.timeout })
  const result = await readers.run({ op: 'paginate', pageSize, offset: (page - 1) * pageSize, sortBy, sortDir, pattern }, call)
  const rows = result.status === 'page' ? result.rows : []
  const totalEntries = rows[0]?.total ?? 0
  return { entries: rows.filter((row) => row.stream_uuid !== null).map(toStreamInfo), pageNumber: page, pageSize, totalEntries, totalPages: Math.ceil(totalEntries / pageSize) }
}
