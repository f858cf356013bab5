// The admin page. Every value that comes from the store is put in the page with textContent,
// never as HTML: event data is user input. The server pages everything; this page keeps one
// page of streams and one of events, and 5 minutes of live figures for the charts.
'use strict'

const PAGE_SIZE = 25
const EVENTS_PER_PAGE = 20
const CHART_POINTS = 300
const CHART_MIN_POINTS = 60
const STREAMS_REFRESH_MS = 5000

const $ = (id) => document.getElementById(id)
const view = { stream: '$all', search: '', streamsPage: 1, totalPages: 1, newest: true, first: null, last: null, head: 0 }
const series = { events: [], appends: [], lag: [] }
let previous = null
let streamsLoadedAt = 0

function element(tag, text, className) {
  const node = document.createElement(tag)
  if (text !== undefined) node.textContent = String(text)
  if (className) node.className = className
  return node
}

async function api(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } })
  const body = await response.json()
  if (!response.ok) throw new Error(body.error ? `${body.error.message} [${body.error.code}]` : `HTTP ${response.status}`)
  return body
}

// ---- Streams ------------------------------------------------------------------------------

async function loadStreams() {
  streamsLoadedAt = Date.now()
  const params = new URLSearchParams({ search: view.search, page: String(view.streamsPage), pageSize: String(PAGE_SIZE) })
  const page = await api(`/api/streams?${params}`)
  view.totalPages = Math.max(1, page.totalPages)
  const list = $('streams')
  list.replaceChildren(
    ...page.entries.map((info) => {
      const item = element('li')
      const button = element('button', undefined, 'stream-link')
      button.type = 'button'
      button.dataset.stream = info.streamId
      if (info.streamId === view.stream) button.classList.add('selected')
      button.append(element('span', info.streamId), element('br'), element('small', `v${info.streamVersion} · ${new Date(info.createdAt).toLocaleString()}${info.status === 'deleted' ? ' · deleted' : ''}`))
      button.addEventListener('click', () => openStream(info.streamId))
      item.append(button)
      return item
    }),
  )
  if (page.entries.length === 0) list.append(element('li', view.search ? 'no stream matches' : 'no streams yet'))
  $('streams-page').textContent = `${view.streamsPage} / ${view.totalPages} (${page.totalEntries})`
  $('streams-prev').disabled = view.streamsPage <= 1
  $('streams-next').disabled = view.streamsPage >= view.totalPages
}

// ---- Events -------------------------------------------------------------------------------

function openStream(streamId) {
  view.stream = streamId
  for (const button of document.querySelectorAll('.stream-link')) button.classList.toggle('selected', button.dataset.stream === streamId)
  return loadEvents('backward', -1)
}

async function loadEvents(direction, from) {
  const params = new URLSearchParams({ stream: view.stream, direction, from: String(from), count: String(EVENTS_PER_PAGE) })
  $('events-title').textContent = view.stream
  try {
    const page = await api(`/api/events?${params}`)
    $('events-message').textContent = ''
    view.head = page.head
    // Newest first on screen, whichever way the page was read.
    const events = direction === 'forward' ? page.events.slice().reverse() : page.events
    if (events.length === 0 && direction === 'forward' && view.last !== null) return loadEvents('backward', -1)
    view.first = events.length ? events[events.length - 1].eventNumber : null
    view.last = events.length ? events[0].eventNumber : null
    view.newest = view.last === null || view.last >= page.head
    $('events-head').textContent = `version ${page.head}${page.status === 'deleted' ? ' (deleted)' : ''}`
    $('events').replaceChildren(...events.map(renderEvent))
    if (events.length === 0) $('events').append(element('li', 'no events'))
    $('events-newer').disabled = view.newest
    $('events-older').disabled = view.first === null || view.first <= 1
  } catch (error) {
    $('events-message').textContent = error.message
    $('events').replaceChildren()
  }
}

function renderEvent(event) {
  const item = element('li')
  item.dataset.eventNumber = String(event.eventNumber)
  const head = element('div', undefined, 'event-head')
  head.append(
    element('span', `#${event.eventNumber}`),
    element('span', event.eventType, 'event-type'),
    element('span', `${event.streamId}@${event.streamVersion}`),
    element('span', new Date(event.createdAt).toLocaleString()),
    element('span', event.eventId),
  )
  item.append(head, element('pre', JSON.stringify(event.data, null, 2), 'event-data'), element('pre', JSON.stringify(event.metadata, null, 2), 'event-metadata'))
  return item
}

// ---- Live figures -------------------------------------------------------------------------

function push(list, value) {
  list.push(value)
  if (list.length > CHART_POINTS) list.shift()
}

function draw(id, values, width, height, max = Math.max(1, ...values)) {
  // The window grows from one minute to five as figures come in; the newest is at the right.
  const slots = Math.max(CHART_MIN_POINTS, values.length)
  const step = width / (slots - 1)
  const offset = slots - values.length
  const points = values.map((v, i) => `${((offset + i) * step).toFixed(1)},${(height - (v / max) * (height - 8) - 4).toFixed(1)}`)
  $(id).setAttribute('points', points.join(' '))
}

function onFigures(figures) {
  if (previous) {
    const seconds = Math.max(0.001, (figures.at - previous.at) / 1000)
    const eventsRate = Math.max(0, figures.allVersion - previous.allVersion) / seconds
    const appendsRate = Math.max(0, figures.appends - previous.appends) / seconds
    push(series.events, eventsRate)
    push(series.appends, appendsRate)
    $('events-rate').textContent = eventsRate.toFixed(0)
    $('appends-rate').textContent = appendsRate.toFixed(0)
    // One scale for both lines, so that they compare.
    const top = Math.max(1, ...series.events, ...series.appends)
    draw('events-line', series.events, 600, 160, top)
    draw('appends-line', series.appends, 600, 160, top)
  }
  const lag = figures.subscriptions.reduce((max, s) => Math.max(max, s.lag.events), 0)
  push(series.lag, lag)
  $('lag-now').textContent = String(lag)
  draw('lag-line', series.lag, 600, 120)
  renderSubscriptions(figures.subscriptions)
  renderReports(figures.reports)
  $('totals').textContent = `${figures.allVersion} events · writer queue ${figures.writerQueued}`
  const grew = previous && figures.allVersion !== previous.allVersion
  previous = figures
  if (grew) {
    if (view.newest) void loadEvents('backward', -1)
    // The stream list counts every stream: refreshed at most every few seconds.
    if (view.streamsPage === 1 && Date.now() - streamsLoadedAt >= STREAMS_REFRESH_MS) void loadStreams()
  }
}

function renderSubscriptions(subscriptions) {
  const body = $('subscriptions').tBodies[0]
  body.replaceChildren(
    ...subscriptions.map((s) => {
      const row = element('tr')
      row.dataset.name = s.name
      const cells = [s.name, s.streamId, s.state.replace('_', ' '), s.checkpoint, s.head, s.lag.events, `${s.lag.seconds.toFixed(1)} s`, s.holderName ?? '–']
      row.append(...cells.map((value) => element('td', value)))
      row.children[2].className = `state-${s.state}`
      row.children[5].className = 'lag-events'
      return row
    }),
  )
  if (subscriptions.length === 0) {
    const row = element('tr')
    const cell = element('td', 'no subscriptions')
    cell.colSpan = 8
    row.append(cell)
    body.append(row)
  }
}

function renderReports(reports) {
  const list = $('reports')
  list.replaceChildren(
    ...reports
      .slice()
      .reverse()
      .map((report) => {
        const item = element('li', undefined, `report-${report.level}`)
        item.append(element('span', new Date(report.at).toLocaleTimeString(), 'report-time'), element('span', `${report.level} · ${report.source}`, 'report-source'), element('span', report.message, 'report-message'))
        return item
      }),
  )
  if (reports.length === 0) list.append(element('li', 'none since the store started'))
}

function connectLive() {
  const source = new EventSource('/api/live')
  source.onopen = () => {
    $('connection').textContent = 'live'
    $('connection').className = 'badge live'
  }
  source.onmessage = (message) => onFigures(JSON.parse(message.data))
  source.addEventListener('failure', (message) => {
    $('connection').textContent = `database: ${JSON.parse(message.data).message}`
    $('connection').className = 'badge down'
  })
  source.onerror = () => {
    $('connection').textContent = 'reconnecting…'
    $('connection').className = 'badge down'
  }
}

// ---- Wiring -------------------------------------------------------------------------------

let searchTimer = null
$('search').addEventListener('input', () => {
  clearTimeout(searchTimer)
  searchTimer = setTimeout(() => {
    view.search = $('search').value
    view.streamsPage = 1
    void loadStreams()
  }, 200)
})
$('search-form').addEventListener('submit', (event) => event.preventDefault())
$('streams-prev').addEventListener('click', () => {
  view.streamsPage -= 1
  void loadStreams()
})
$('streams-next').addEventListener('click', () => {
  view.streamsPage += 1
  void loadStreams()
})
$('all-stream').addEventListener('click', () => openStream('$all'))
$('events-newest').addEventListener('click', () => loadEvents('backward', -1))
$('events-oldest').addEventListener('click', () => loadEvents('forward', 1))
$('events-older').addEventListener('click', () => loadEvents('backward', view.first - 1))
$('events-newer').addEventListener('click', () => loadEvents('forward', view.last + 1))

void loadStreams()
void loadEvents('backward', -1)
connectLive()
