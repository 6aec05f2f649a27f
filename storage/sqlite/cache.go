package sqlite

import (
	"maps"
	"slices"
	"sync"

	"github.com/sitrep-dev/sitrep/incident"
)

// incidentCache keeps the incidents this process changed last, as stored,
// by number and version. A change reads only the incident's version inside
// its transaction and, when that is the version cached, starts from a copy
// of the cached incident instead of reading and decoding the whole row,
// its roles, checklist and follow-ups again: decoding state that did not
// change was a quarter of a note's time in the store (sitrep-bench's CPU
// profile). Every change of an incident, from any process, raises its
// version, so a cached copy is used only while it is what the database
// holds.
type incidentCache struct {
	mu      sync.Mutex
	entries map[int64]*incident.Incident
}

// maxCached bounds the cache: open incidents are few, and one missed costs
// one full read.
const maxCached = 256

// get returns a copy of incident number as of version, or nil.
func (c *incidentCache) get(number, version int64) *incident.Incident {
	c.mu.Lock()
	defer c.mu.Unlock()
	inc := c.entries[number]
	if inc == nil || inc.Version != version {
		return nil
	}
	return cloneIncident(inc)
}

// put keeps a copy of inc, as committed, unless a newer version is kept.
func (c *incidentCache) put(inc *incident.Incident) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[inc.Number]; old != nil && old.Version >= inc.Version {
		return
	}
	if c.entries == nil {
		c.entries = map[int64]*incident.Incident{}
	}
	if len(c.entries) >= maxCached {
		for n := range c.entries { // any one: map order is random
			delete(c.entries, n)
			break
		}
	}
	c.entries[inc.Number] = cloneIncident(inc)
}

// cloneIncident copies inc deeply: the cached copy and the ones handed out
// share nothing a change could write through. TestCloneIncidentIsDeep fails
// when Incident gains a field this does not copy.
func cloneIncident(inc *incident.Incident) *incident.Incident {
	c := *inc
	c.Services = slices.Clone(inc.Services)
	c.Roles = maps.Clone(inc.Roles)
	c.Checklist = slices.Clone(inc.Checklist)
	c.FollowUps = slices.Clone(inc.FollowUps)
	c.Pages = slices.Clone(inc.Pages)
	for i := range c.Pages {
		c.Pages[i].Notified = slices.Clone(c.Pages[i].Notified)
	}
	c.Public.Updates = slices.Clone(inc.Public.Updates)
	for i := range c.Public.Updates {
		c.Public.Updates[i].Components = slices.Clone(c.Public.Updates[i].Components)
	}
	if inc.Public.Draft != nil {
		d := *inc.Public.Draft
		d.Components = slices.Clone(d.Components)
		c.Public.Draft = &d
	}
	return &c
}
