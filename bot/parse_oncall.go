package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseOnCall reads "[schedule]" or "override <schedule> @user <duration>".
func parseOnCall(cmd *Command, args string, _ []string) error {
	word, rest := cut(args)
	if !strings.EqualFold(word, "override") {
		if rest != "" {
			return &usageError{msg: "Name at most one schedule."}
		}
		cmd.Schedule = strings.ToLower(word)
		return nil
	}
	cmd.Override = true
	schedule, rest := cut(rest)
	who, rest := cut(rest)
	dur, rest := cut(rest)
	switch {
	case schedule == "" || who == "" || dur == "":
		return &usageError{msg: "Give the schedule, the person and how long, such as `override primary @dana 8h`."}
	case rest != "":
		return &usageError{msg: "Give only the schedule, one person and how long."}
	}
	user, err := oneMention(who)
	if err != nil {
		return err
	}
	d, err := parseLength(dur)
	if err != nil {
		return err
	}
	cmd.Schedule, cmd.User, cmd.For = strings.ToLower(schedule), user, d
	return nil
}

// parseLength reads how long an override lasts: a Go duration (90m, 8h,
// 1h30m) or whole days or weeks (2d, 1w).
func parseLength(s string) (time.Duration, error) {
	bad := &usageError{msg: fmt.Sprintf("%q is not a duration. Say how long, such as 30m, 8h, 2d or 1w.", s)}
	if n := len(s); n > 1 && (s[n-1] == 'd' || s[n-1] == 'w') {
		k, err := strconv.Atoi(s[:n-1])
		if err != nil || k > 1000 {
			return 0, bad
		}
		day := 24 * time.Hour
		if s[n-1] == 'w' {
			day *= 7
		}
		return time.Duration(k) * day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, bad
	}
	return d, nil
}

// parsePage reads "<@user|schedule> [message]".
func parsePage(cmd *Command, args string, _ []string) error {
	who, rest := cut(args)
	if who == "" {
		return &usageError{msg: "Say whom to page: @someone, or a schedule's name."}
	}
	if m := mentionRE.FindStringSubmatch(who); m != nil {
		cmd.Target = "user:" + m[1]
	} else if strings.HasPrefix(who, "<") || strings.HasPrefix(who, "@") {
		return &usageError{msg: fmt.Sprintf("%q is not a mention of a person. Type @ and pick the person from Slack's list, or give a schedule's name.", who)}
	} else {
		cmd.Target, cmd.Schedule = "schedule:"+strings.ToLower(who), strings.ToLower(who)
	}
	cmd.Text = rest
	return nil
}
