package slackfake

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// jsonBlocks marshals v (built from maps and slices) as a blocks array.
func jsonBlocks(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type obj = map[string]any

func plain(s string) obj  { return obj{"type": "plain_text", "text": s} }
func mrkdwn(s string) obj { return obj{"type": "mrkdwn", "text": s} }
func button(actionID, text string) obj {
	return obj{"type": "button", "action_id": actionID, "text": plain(text)}
}
func repeat(n int) string { return strings.Repeat("x", n) }

func repeatItems(n int, item func(i int) any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = item(i)
	}
	return out
}

func TestValidateBlocks(t *testing.T) {
	tests := []struct {
		name   string
		blocks any
		want   []string
	}{
		{
			name: "valid message",
			blocks: []any{
				obj{"type": "header", "text": plain(repeat(150))},
				obj{"type": "section", "text": mrkdwn(repeat(3000)), "block_id": "summary",
					"accessory": button("ack", "Acknowledge")},
				obj{"type": "section", "fields": repeatItems(10, func(int) any { return mrkdwn(repeat(2000)) })},
				obj{"type": "divider"},
				obj{"type": "context", "elements": repeatItems(10, func(int) any { return plain("ctx") })},
				obj{"type": "actions", "elements": repeatItems(25, func(i int) any {
					b := button(fmt.Sprintf("a%d", i), repeat(75))
					b["value"] = repeat(2000)
					b["url"] = repeat(3000)
					return b
				})},
				obj{"type": "image", "image_url": "https://example.com/x.png", "alt_text": "x"},
				obj{"type": "rich_text", "elements": []any{}},
				obj{"type": "input", "label": plain("Summary"), "element": obj{"type": "plain_text_input", "action_id": "summary_input"}},
			},
		},
		{
			name:   "exactly 50 blocks",
			blocks: repeatItems(50, func(int) any { return obj{"type": "divider"} }),
		},
		{
			name:   "51 blocks",
			blocks: repeatItems(51, func(int) any { return obj{"type": "divider"} }),
			want:   []string{"no more than 50 items allowed [json-pointer:/blocks]"},
		},
		{
			name:   "not an array",
			blocks: obj{"type": "divider"},
			want:   []string{"must provide an array [json-pointer:/blocks]"},
		},
		{
			name:   "block not an object",
			blocks: []any{"divider"},
			want:   []string{"must provide an object [json-pointer:/blocks/0]"},
		},
		{
			name:   "missing type",
			blocks: []any{obj{"text": plain("x")}},
			want:   []string{"missing required field: type [json-pointer:/blocks/0]"},
		},
		{
			name:   "unknown block type",
			blocks: []any{obj{"type": "divider"}, obj{"type": "sections"}},
			want:   []string{"unsupported type: sections [json-pointer:/blocks/1/type]"},
		},
		{
			name:   "header too long",
			blocks: []any{obj{"type": "header", "text": plain(repeat(151))}},
			want:   []string{"must be less than 151 characters [json-pointer:/blocks/0/text/text]"},
		},
		{
			name:   "header counts characters not bytes",
			blocks: []any{obj{"type": "header", "text": plain(strings.Repeat("é", 150))}},
		},
		{
			name:   "header mrkdwn",
			blocks: []any{obj{"type": "header", "text": mrkdwn("*x*")}},
			want:   []string{"unsupported type: mrkdwn [json-pointer:/blocks/0/text/type]"},
		},
		{
			name:   "header without text",
			blocks: []any{obj{"type": "header"}},
			want:   []string{"missing required field: text [json-pointer:/blocks/0]"},
		},
		{
			name:   "section text too long (Slack's own example)",
			blocks: []any{obj{"type": "section", "text": mrkdwn(repeat(3001))}},
			want: []string{
				"failed to match all allowed schemas [json-pointer:/blocks/0/text]",
				"must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
			},
		},
		{
			name:   "section needs text or fields",
			blocks: []any{obj{"type": "section"}},
			want:   []string{"must define either `text` or `fields` [json-pointer:/blocks/0/type]"},
		},
		{
			name:   "section with 11 fields",
			blocks: []any{obj{"type": "section", "fields": repeatItems(11, func(int) any { return plain("f") })}},
			want:   []string{"no more than 10 items allowed [json-pointer:/blocks/0/fields]"},
		},
		{
			name:   "section field too long",
			blocks: []any{obj{"type": "section", "fields": []any{plain("ok"), mrkdwn(repeat(2001))}}},
			want: []string{
				"failed to match all allowed schemas [json-pointer:/blocks/0/fields/1]",
				"must be less than 2001 characters [json-pointer:/blocks/0/fields/1/text]",
			},
		},
		{
			name:   "empty text",
			blocks: []any{obj{"type": "section", "text": mrkdwn("")}},
			want: []string{
				"failed to match all allowed schemas [json-pointer:/blocks/0/text]",
				"must be more than 0 characters [json-pointer:/blocks/0/text/text]",
			},
		},
		{
			name:   "text object of unknown type",
			blocks: []any{obj{"type": "section", "text": obj{"type": "markdown", "text": "x"}}},
			want:   []string{"unsupported type: markdown [json-pointer:/blocks/0/text/type]"},
		},
		{
			name:   "text given as a string",
			blocks: []any{obj{"type": "section", "text": "hello"}},
			want:   []string{"must provide an object [json-pointer:/blocks/0/text]"},
		},
		{
			name:   "context with 11 elements",
			blocks: []any{obj{"type": "context", "elements": repeatItems(11, func(int) any { return mrkdwn("c") })}},
			want:   []string{"no more than 10 items allowed [json-pointer:/blocks/0/elements]"},
		},
		{
			name:   "context with no elements",
			blocks: []any{obj{"type": "context", "elements": []any{}}},
			want:   []string{"must provide at least 1 items [json-pointer:/blocks/0/elements]"},
		},
		{
			name: "actions with 26 elements",
			blocks: []any{obj{"type": "actions", "elements": repeatItems(26, func(i int) any {
				return button(fmt.Sprintf("b%d", i), "B")
			})}},
			want: []string{"no more than 25 items allowed [json-pointer:/blocks/0/elements]"},
		},
		{
			name:   "actions without elements",
			blocks: []any{obj{"type": "actions"}},
			want:   []string{"missing required field: elements [json-pointer:/blocks/0]"},
		},
		{
			name:   "button text too long",
			blocks: []any{obj{"type": "actions", "elements": []any{button("b", repeat(76))}}},
			want:   []string{"must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"},
		},
		{
			name:   "button text mrkdwn",
			blocks: []any{obj{"type": "actions", "elements": []any{obj{"type": "button", "text": mrkdwn("b")}}}},
			want:   []string{"unsupported type: mrkdwn [json-pointer:/blocks/0/elements/0/text/type]"},
		},
		{
			name: "button value too long",
			blocks: []any{obj{"type": "actions", "elements": []any{
				obj{"type": "button", "text": plain("b"), "value": repeat(2001)},
			}}},
			want: []string{"must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]"},
		},
		{
			name: "button url too long",
			blocks: []any{obj{"type": "actions", "elements": []any{
				obj{"type": "button", "text": plain("b"), "url": repeat(3001)},
			}}},
			want: []string{"must be less than 3001 characters [json-pointer:/blocks/0/elements/0/url]"},
		},
		{
			name:   "action_id too long",
			blocks: []any{obj{"type": "actions", "elements": []any{button(repeat(256), "b")}}},
			want:   []string{"must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]"},
		},
		{
			name:   "action_id 255 long",
			blocks: []any{obj{"type": "actions", "elements": []any{button(repeat(255), "b")}}},
		},
		{
			name: "duplicate action_id across blocks",
			blocks: []any{
				obj{"type": "section", "text": plain("s"), "accessory": button("vote", "a")},
				obj{"type": "actions", "elements": []any{button("other", "b"), button("vote", "c")}},
			},
			want: []string{"`action_id` \"vote\" already exists [json-pointer:/blocks/1/elements/1/action_id]"},
		},
		{
			name:   "block_id too long",
			blocks: []any{obj{"type": "divider", "block_id": repeat(256)}},
			want:   []string{"must be less than 256 characters [json-pointer:/blocks/0/block_id]"},
		},
		{
			name:   "duplicate block_id",
			blocks: []any{obj{"type": "divider", "block_id": "b"}, obj{"type": "divider", "block_id": "b"}},
			want:   []string{"`block_id` \"b\" already exists [json-pointer:/blocks/1/block_id]"},
		},
		{
			name:   "unknown element in actions",
			blocks: []any{obj{"type": "actions", "elements": []any{obj{"type": "buton", "text": plain("b")}}}},
			want:   []string{"unsupported type: buton [json-pointer:/blocks/0/elements/0/type]"},
		},
		{
			name:   "image without alt_text",
			blocks: []any{obj{"type": "image", "image_url": "https://example.com/x.png"}},
			want:   []string{"missing required field: alt_text [json-pointer:/blocks/0]"},
		},
		{
			name:   "input without element",
			blocks: []any{obj{"type": "input", "label": plain("L")}},
			want:   []string{"missing required field: element [json-pointer:/blocks/0]"},
		},
		{
			name: "several errors are all reported",
			blocks: []any{
				obj{"type": "header", "text": plain(repeat(151))},
				obj{"type": "section", "text": plain(repeat(3001))},
			},
			want: []string{
				"must be less than 151 characters [json-pointer:/blocks/0/text/text]",
				"failed to match all allowed schemas [json-pointer:/blocks/1/text]",
				"must be less than 3001 characters [json-pointer:/blocks/1/text/text]",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ValidateBlocks(jsonBlocks(t, tt.blocks))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ValidateBlocks() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
