package slackfake

import (
	"slices"
	"time"
)

func (s *Server) authTest(r *request) result {
	return success(result{
		"url":                   permalinkBase,
		"team":                  teamName,
		"user":                  botUserName,
		"team_id":               s.teamID,
		"user_id":               DefaultBotUserID,
		"bot_id":                DefaultBotID,
		"is_enterprise_install": false,
	})
}

// userJSON renders a user shaped like web-api/users.info.json.
func (s *Server) userJSON(u *User) result {
	tz, label, offset := "UTC", "Coordinated Universal Time", 0
	if u.TZ != "" {
		if loc, err := time.LoadLocation(u.TZ); err == nil {
			tz = u.TZ
			label, offset = s.clock().In(loc).Zone()
		}
	}
	profile := result{
		"avatar_hash":             "",
		"status_text":             "",
		"status_emoji":            "",
		"real_name":               u.RealName,
		"display_name":            u.Name,
		"real_name_normalized":    u.RealName,
		"display_name_normalized": u.Name,
		"team":                    s.teamID,
	}
	// Slack shows the email only to an app with users:read.email.
	if u.Email != "" && slices.Contains(s.scopes, "users:read.email") {
		profile["email"] = u.Email
	}
	if u.ID == DefaultBotUserID {
		profile["bot_id"] = DefaultBotID
		profile["api_app_id"] = DefaultAppID
	}
	return result{
		"id":                  u.ID,
		"team_id":             s.teamID,
		"name":                u.Name,
		"deleted":             false,
		"color":               "9f69e7",
		"real_name":           u.RealName,
		"tz":                  tz,
		"tz_label":            label,
		"tz_offset":           offset,
		"profile":             profile,
		"is_admin":            false,
		"is_owner":            false,
		"is_primary_owner":    false,
		"is_restricted":       false,
		"is_ultra_restricted": false,
		"is_bot":              u.IsBot,
		"is_app_user":         false,
		"updated":             0,
		"has_2fa":             false,
	}
}

func (s *Server) usersInfo(r *request) result {
	u := s.users[r.get("user")]
	if u == nil {
		return apiErr("user_not_found")
	}
	return success(result{"user": s.userJSON(u)})
}
