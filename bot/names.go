package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// nameTTL is how long a person's name is remembered: names change rarely,
// and a postmortem with a slightly old name is fine.
const nameTTL = time.Hour

// nameCache turns user IDs into the names people know, through users.info,
// remembering answers so a long timeline costs one call per person.
type nameCache struct {
	api slackAPI
	log *slog.Logger

	mu    sync.Mutex
	names map[string]cachedName
}

type cachedName struct {
	name string
	at   time.Time
}

func newNameCache(api slackAPI, log *slog.Logger) *nameCache {
	return &nameCache{api: api, log: log, names: map[string]cachedName{}}
}

// lookup returns a resolver for one rendering. A user Slack cannot tell
// about keeps their ID, so the document still says who it was.
func (c *nameCache) lookup(ctx context.Context) func(userID string) string {
	return func(id string) string {
		if id == "" {
			return ""
		}
		c.mu.Lock()
		n, ok := c.names[id]
		c.mu.Unlock()
		if ok && time.Since(n.at) < nameTTL {
			return n.name
		}
		u, err := c.api.GetUserInfoContext(ctx, id)
		if err != nil {
			c.log.Warn("users.info failed; showing the user ID", "user", id, "err", err)
			return id
		}
		// A postmortem is read by people outside the team too: the full
		// name says more than a handle.
		name := u.RealName
		if name == "" {
			name = u.Profile.DisplayName
		}
		if name == "" {
			name = u.Name
		}
		c.mu.Lock()
		c.names[id] = cachedName{name: name, at: time.Now()}
		c.mu.Unlock()
		return name
	}
}

// known returns the name remembered for id, or "" without asking Slack:
// for the domain, which asks while it holds the database (incident.WithNames).
// A name older than nameTTL still beats none.
func (c *nameCache) known(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.names[id].name
}
