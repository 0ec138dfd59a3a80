package ui

import "hash/fnv"

// palette colours services: the same service has the same colour on every
// page and in every record. The common services have colours of their own;
// any other name gets one of the rest by a hash of the name. There is no
// red (errors are red) and no grey (HTTP phases are drawn in greys, see
// app.js). app.css has a class .cN per entry, app.js gets the list in the
// pages' data islands.
var palette = []string{
	"#2563eb", // 0 http
	"#16a34a", // 1 sql
	"#d97706", // 2 grpc
	"#0891b2", // 3 net
	"#9333ea", // 4 dns
	"#db2777", // 5 event
	"#65a30d", // 6 cache, memcache
	"#0d9488", // 7 redis
	"#7c3aed", // violet
	"#ea580c", // orange
	"#be185d", // raspberry
	"#ca8a04", // mustard
	"#4d7c0f", // olive
	"#a21caf", // magenta
	"#92400e", // brown
	"#4f46e5", // indigo
}

// fixedColors are the colours of the services appstats' own wrappers name,
// and of a few names every app uses.
var fixedColors = map[string]int{
	"http": 0, "sql": 1, "grpc": 2, "net": 3, "dns": 4, "event": 5,
	"cache": 6, "memcache": 6, "redis": 7,
}

// firstHashed is the first palette entry names outside fixedColors get.
const firstHashed = 8

// serviceColor returns the palette index of a service's colour.
func serviceColor(service string) int {
	if i, ok := fixedColors[service]; ok {
		return i
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(service))
	return firstHashed + int(h.Sum32()%uint32(len(palette)-firstHashed))
}
