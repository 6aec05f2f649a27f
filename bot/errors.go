package bot

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sitrep-dev/sitrep/incident"
)

// maxNamed is how many people a message names before "and N more".
const maxNamed = 5

// errorText words an error for the person in Slack: the domain's message
// with people as mentions and actions as the full slash command, as typed
// with the configured command name. Errors that are not the domain's get
// the domain's generic apology.
func (b *Bot) errorText(err error) string {
	var e *incident.Error
	if !errors.As(err, &e) {
		return incident.ErrorMessage(err)
	}
	return e.Text(mentions, func(action string) string { return "`" + b.opts.CommandName + " " + action + "`" })
}

// mentions names people as Slack mentions, the first maxNamed of them.
func mentions(users []string) string {
	named := make([]string, 0, maxNamed)
	for _, u := range users[:min(len(users), maxNamed)] {
		named = append(named, mention(u))
	}
	s := strings.Join(named, ", ")
	if more := len(users) - len(named); more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}
