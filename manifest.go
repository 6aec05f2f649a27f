package sitrep

import (
	_ "embed"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Manifest is manifest.yaml, the Slack app manifest Sitrep is installed
// from.
//
//go:embed manifest.yaml
var Manifest []byte

// BotScopes returns the bot token scopes the manifest requests, in its
// order: what Slack grants Sitrep, and so what the fake Slack
// (internal/slackfake) allows by default.
func BotScopes() ([]string, error) {
	var m struct {
		OAuthConfig struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
	}
	if err := yaml.Unmarshal(Manifest, &m); err != nil {
		return nil, fmt.Errorf("read manifest.yaml: %w", err)
	}
	return m.OAuthConfig.Scopes.Bot, nil
}
