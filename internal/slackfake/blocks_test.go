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

func option(text, value string) obj { return obj{"text": plain(text), "value": value} }

func input(blockID string, element obj) obj {
	return obj{"type": "input", "block_id": blockID, "label": plain("Label"), "element": element}
}

func TestValidateInputElements(t *testing.T) {
	options := func(n int) []any {
		return repeatItems(n, func(i int) any { return option(fmt.Sprint("o", i), fmt.Sprint("v", i)) })
	}
	tests := []struct {
		name   string
		blocks any
		want   []string
	}{
		{
			name: "valid inputs",
			blocks: []any{
				obj{"type": "input", "label": plain(repeat(2000)), "hint": plain(repeat(2000)), "optional": true, "dispatch_action": false,
					"element": obj{"type": "plain_text_input", "action_id": "summary", "multiline": true, "max_length": 3000,
						"min_length": 0, "initial_value": "x", "placeholder": plain(repeat(150))}},
				input("sev", obj{"type": "static_select", "action_id": "sev", "options": options(100),
					"initial_option": option("o1", "v1")}),
				input("groups", obj{"type": "static_select", "action_id": "g", "option_groups": []any{
					obj{"label": plain(repeat(75)), "options": options(100)}}}),
				input("lead", obj{"type": "users_select", "action_id": "lead", "initial_user": "U1"}),
				input("team", obj{"type": "multi_users_select", "action_id": "team", "initial_users": []any{"U1"}}),
				input("checks", obj{"type": "checkboxes", "action_id": "c", "options": []any{
					obj{"text": mrkdwn(repeat(75)), "value": repeat(150), "description": plain(repeat(75))}},
					"initial_options": []any{option("a", "b")}}),
				input("radio", obj{"type": "radio_buttons", "action_id": "r", "options": options(10)}),
				input("chan", obj{"type": "conversations_select", "action_id": "ch", "default_to_current_conversation": true}),
				input("date", obj{"type": "datepicker", "action_id": "d", "initial_date": "2024-02-29"}),
			},
		},
		{
			name:   "label too long",
			blocks: []any{obj{"type": "input", "label": plain(repeat(2001)), "element": obj{"type": "plain_text_input"}}},
			want:   []string{"must be less than 2001 characters [json-pointer:/blocks/0/label/text]"},
		},
		{
			name:   "label mrkdwn",
			blocks: []any{obj{"type": "input", "label": mrkdwn("*L*"), "element": obj{"type": "plain_text_input"}}},
			want:   []string{"unsupported type: mrkdwn [json-pointer:/blocks/0/label/type]"},
		},
		{
			name:   "input without label",
			blocks: []any{obj{"type": "input", "element": obj{"type": "plain_text_input"}}},
			want:   []string{"missing required field: label [json-pointer:/blocks/0]"},
		},
		{
			name:   "hint too long",
			blocks: []any{obj{"type": "input", "label": plain("L"), "hint": plain(repeat(2001)), "element": obj{"type": "plain_text_input"}}},
			want:   []string{"must be less than 2001 characters [json-pointer:/blocks/0/hint/text]"},
		},
		{
			name:   "optional not a boolean",
			blocks: []any{obj{"type": "input", "label": plain("L"), "optional": "yes", "element": obj{"type": "plain_text_input"}}},
			want:   []string{"must provide a boolean [json-pointer:/blocks/0/optional]"},
		},
		{
			name:   "button in an input",
			blocks: []any{input("b", button("x", "X"))},
			want:   []string{"unsupported type: button [json-pointer:/blocks/0/element/type]"},
		},
		{
			name:   "max_length over 3000",
			blocks: []any{input("b", obj{"type": "plain_text_input", "max_length": 3001})},
			want:   []string{"must be less than 3001 [json-pointer:/blocks/0/element/max_length]"},
		},
		{
			name:   "min_length not an integer",
			blocks: []any{input("b", obj{"type": "plain_text_input", "min_length": "3"})},
			want:   []string{"must provide an integer [json-pointer:/blocks/0/element/min_length]"},
		},
		{
			name:   "multiline not a boolean",
			blocks: []any{input("b", obj{"type": "plain_text_input", "multiline": 1})},
			want:   []string{"must provide a boolean [json-pointer:/blocks/0/element/multiline]"},
		},
		{
			name:   "initial_value over 3000",
			blocks: []any{input("b", obj{"type": "plain_text_input", "initial_value": repeat(3001)})},
			want:   []string{"must be less than 3001 characters [json-pointer:/blocks/0/element/initial_value]"},
		},
		{
			name:   "placeholder too long",
			blocks: []any{input("b", obj{"type": "plain_text_input", "placeholder": plain(repeat(151))})},
			want:   []string{"must be less than 151 characters [json-pointer:/blocks/0/element/placeholder/text]"},
		},
		{
			name:   "101 select options",
			blocks: []any{input("b", obj{"type": "static_select", "options": options(101)})},
			want:   []string{"no more than 100 items allowed [json-pointer:/blocks/0/element/options]"},
		},
		{
			name:   "select without options",
			blocks: []any{input("b", obj{"type": "static_select"})},
			want:   []string{"must define either `options` or `option_groups` [json-pointer:/blocks/0/element/type]"},
		},
		{
			name:   "option text too long",
			blocks: []any{input("b", obj{"type": "static_select", "options": []any{option(repeat(76), "v")}})},
			want:   []string{"must be less than 76 characters [json-pointer:/blocks/0/element/options/0/text/text]"},
		},
		{
			name:   "option value too long",
			blocks: []any{input("b", obj{"type": "static_select", "options": []any{option("t", repeat(151))}})},
			want:   []string{"must be less than 151 characters [json-pointer:/blocks/0/element/options/0/value]"},
		},
		{
			name:   "option without value",
			blocks: []any{input("b", obj{"type": "static_select", "options": []any{obj{"text": plain("t")}}})},
			want:   []string{"missing required field: value [json-pointer:/blocks/0/element/options/0]"},
		},
		{
			name:   "select option mrkdwn",
			blocks: []any{input("b", obj{"type": "static_select", "options": []any{obj{"text": mrkdwn("t"), "value": "v"}}})},
			want:   []string{"unsupported type: mrkdwn [json-pointer:/blocks/0/element/options/0/text/type]"},
		},
		{
			name: "invalid initial_option",
			blocks: []any{input("b", obj{"type": "static_select", "options": options(1),
				"initial_option": obj{"text": plain("o0")}})},
			want: []string{"missing required field: value [json-pointer:/blocks/0/element/initial_option]"},
		},
		{
			name:   "11 checkboxes",
			blocks: []any{input("b", obj{"type": "checkboxes", "options": options(11)})},
			want:   []string{"no more than 10 items allowed [json-pointer:/blocks/0/element/options]"},
		},
		{
			name:   "checkboxes without options",
			blocks: []any{input("b", obj{"type": "checkboxes"})},
			want:   []string{"missing required field: options [json-pointer:/blocks/0/element]"},
		},
		{
			name:   "radio buttons with no options",
			blocks: []any{input("b", obj{"type": "radio_buttons", "options": []any{}})},
			want:   []string{"must provide at least 1 items [json-pointer:/blocks/0/element/options]"},
		},
		{
			name:   "bad initial_date",
			blocks: []any{input("b", obj{"type": "datepicker", "initial_date": "2023-02-29"})},
			want:   []string{"must be a date in the format YYYY-MM-DD [json-pointer:/blocks/0/element/initial_date]"},
		},
		{
			name:   "select option in an accessory is checked too",
			blocks: []any{obj{"type": "section", "text": plain("s"), "accessory": obj{"type": "static_select", "options": []any{option("t", repeat(151))}}}},
			want:   []string{"must be less than 151 characters [json-pointer:/blocks/0/accessory/options/0/value]"},
		},
		{
			name:   "six overflow options",
			blocks: []any{obj{"type": "actions", "elements": []any{obj{"type": "overflow", "options": options(6)}}}},
			want:   []string{"no more than 5 items allowed [json-pointer:/blocks/0/elements/0/options]"},
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

func TestValidateBlocksMax(t *testing.T) {
	dividers := func(n int) json.RawMessage {
		return jsonBlocks(t, repeatItems(n, func(int) any { return obj{"type": "divider"} }))
	}
	if errs := ValidateBlocksMax(dividers(100), MaxViewBlocks); errs != nil {
		t.Errorf("100 blocks: %v", errs)
	}
	want := []string{"no more than 100 items allowed [json-pointer:/blocks]"}
	if diff := cmp.Diff(want, ValidateBlocksMax(dividers(101), MaxViewBlocks)); diff != "" {
		t.Errorf("101 blocks mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ValidateBlocks(dividers(51)), ValidateBlocksMax(dividers(51), MaxMessageBlocks)); diff != "" {
		t.Errorf("ValidateBlocks differs from ValidateBlocksMax(50):\n%s", diff)
	}
}

// modal returns a valid modal view with the given blocks, changed by edits.
func modal(blocks []any, edits ...func(obj)) obj {
	v := obj{"type": "modal", "title": plain("Declare"), "submit": plain("Declare"), "close": plain("Cancel"), "blocks": blocks}
	for _, e := range edits {
		e(v)
	}
	return v
}

func set(key string, value any) func(obj) { return func(v obj) { v[key] = value } }
func unset(key string) func(obj)          { return func(v obj) { delete(v, key) } }

func TestValidateView(t *testing.T) {
	summary := input("summary", obj{"type": "plain_text_input", "action_id": "value"})
	dividers := func(n int) []any { return repeatItems(n, func(int) any { return obj{"type": "divider"} }) }
	tests := []struct {
		name string
		view any
		want []string
	}{
		{
			name: "valid modal",
			view: modal([]any{summary, input("sev", obj{"type": "static_select", "action_id": "value", "options": []any{option("SEV1", "1")}})},
				set("title", plain(repeat(24))), set("submit", plain(repeat(24))), set("close", plain(repeat(24))),
				set("private_metadata", repeat(3000)), set("callback_id", repeat(255)), set("external_id", repeat(255)),
				set("clear_on_close", true), set("notify_on_close", false)),
		},
		{name: "100 blocks", view: modal(dividers(100))},
		{name: "valid home tab", view: obj{"type": "home", "blocks": dividers(100), "callback_id": "home"}},
		{name: "home tab without title", view: obj{"type": "home", "blocks": []any{}}},
		{name: "modal without input needs no submit", view: modal(dividers(1), unset("submit"))},
		{
			name: "empty view (Slack's own answer)",
			view: obj{},
			want: []string{
				"missing required field: title [json-pointer:/view]",
				"missing required field: blocks [json-pointer:/view]",
				"missing required field: type [json-pointer:/view]",
			},
		},
		{name: "not an object", view: "modal", want: []string{"must provide an object [json-pointer:/view]"}},
		{name: "unknown type", view: modal(nil, set("type", "workflow_step"), set("blocks", []any{})),
			want: []string{"unsupported type: workflow_step [json-pointer:/view/type]"}},
		{name: "title too long", view: modal(dividers(1), set("title", plain(repeat(25)))),
			want: []string{"must be less than 25 characters [json-pointer:/view/title/text]"}},
		{name: "title mrkdwn", view: modal(dividers(1), set("title", mrkdwn("x"))),
			want: []string{"unsupported type: mrkdwn [json-pointer:/view/title/type]"}},
		{name: "submit too long", view: modal(dividers(1), set("submit", plain(repeat(25)))),
			want: []string{"must be less than 25 characters [json-pointer:/view/submit/text]"}},
		{name: "close too long", view: modal(dividers(1), set("close", plain(repeat(25)))),
			want: []string{"must be less than 25 characters [json-pointer:/view/close/text]"}},
		{name: "101 blocks", view: modal(dividers(101)),
			want: []string{"no more than 100 items allowed [json-pointer:/view/blocks]"}},
		{name: "101 blocks in a home tab", view: obj{"type": "home", "blocks": dividers(101)},
			want: []string{"no more than 100 items allowed [json-pointer:/view/blocks]"}},
		{name: "input without submit", view: modal([]any{summary}, unset("submit")),
			want: []string{"missing required field: submit [json-pointer:/view]"}},
		{name: "private_metadata too long", view: modal(dividers(1), set("private_metadata", repeat(3001))),
			want: []string{"must be less than 3001 characters [json-pointer:/view/private_metadata]"}},
		{name: "callback_id too long", view: modal(dividers(1), set("callback_id", repeat(256))),
			want: []string{"must be less than 256 characters [json-pointer:/view/callback_id]"}},
		{name: "external_id too long", view: modal(dividers(1), set("external_id", repeat(256))),
			want: []string{"must be less than 256 characters [json-pointer:/view/external_id]"}},
		{name: "block errors point into the view", view: modal([]any{obj{"type": "header", "text": plain(repeat(151))}}),
			want: []string{"must be less than 151 characters [json-pointer:/view/blocks/0/text/text]"}},
		{name: "duplicate block_id", view: modal([]any{summary, summary}),
			want: []string{"`block_id` \"summary\" already exists [json-pointer:/view/blocks/1/block_id]"}},
		{name: "duplicate action_id within a block", view: modal([]any{obj{"type": "actions", "elements": []any{button("a", "A"), button("a", "B")}}}),
			want: []string{"`action_id` \"a\" already exists [json-pointer:/view/blocks/0/elements/1/action_id]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ValidateView(jsonBlocks(t, tt.view))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ValidateView() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
