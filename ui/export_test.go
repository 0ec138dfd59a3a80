package ui

// Disconnect ends every stream of l and keeps l open, so that tests can watch
// dashboards reconnect.
func Disconnect(l *Live) { l.disconnect() }

// LiveEventInterval is the least time between two "records" events of a
// stream.
const LiveEventInterval = liveEventInterval
