package slackfake

import (
	"encoding/json"
	"strings"
)

// BlockText collects every "text" string in Block Kit JSON (a block, a list
// of blocks, a view), in document order, one per line: what tests search
// for what a person would read.
func BlockText(raw json.RawMessage) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return ""
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				out = append(out, s)
			}
			for _, k := range []string{"text", "title", "fields", "elements", "blocks", "accessory", "options", "placeholder", "label", "element", "description"} {
				if x, ok := v[k]; ok {
					if _, isString := x.(string); !isString {
						walk(x)
					}
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return strings.Join(out, "\n")
}
