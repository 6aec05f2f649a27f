package bot

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/sitrep-dev/sitrep/incident"
)

// Person tells a tracker who a Slack user is (tracker.People): the name
// people know them by, and their email, by which some trackers find their
// own account for them. Both are "" when Slack cannot say; the email
// needs the users:read.email scope.
func (b *Bot) Person(ctx context.Context, userID string) (name, email string) {
	u, err := b.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		b.log.Warn("users.info failed; the issue names the user by ID", "user", userID, "err", err)
		return "", ""
	}
	name = u.RealName
	if name == "" {
		name = u.Profile.DisplayName
	}
	if name == "" {
		name = u.Name
	}
	return name, u.Profile.Email
}

// IncidentLink is the link back to the incident's channel from an issue
// made for one of its follow-ups: Slack's redirect, which opens the
// channel in whichever workspace the reader is signed in to. "" until the
// channel exists.
func (b *Bot) IncidentLink(ctx context.Context, inc *incident.Incident) string {
	d, err := b.svc.Delivery(ctx, "slack", inc.ID)
	if err != nil || len(d.State) == 0 {
		return ""
	}
	var c chatState
	if err := json.Unmarshal(d.State, &c); err != nil || c.ChannelID == "" {
		return ""
	}
	return "https://slack.com/app_redirect?channel=" + url.QueryEscape(c.ChannelID)
}
