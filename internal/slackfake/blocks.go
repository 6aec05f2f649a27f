package slackfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Block Kit limits enforced by ValidateBlocks (docs.slack.dev/reference/block-kit).
const (
	maxMessageBlocks   = 50
	maxHeaderText      = 150
	maxSectionText     = 3000
	maxSectionFields   = 10
	maxFieldText       = 2000
	maxContextElements = 10
	maxActionsElements = 25
	maxButtonText      = 75
	maxButtonValue     = 2000
	maxURL             = 3000
	maxID              = 255 // action_id and block_id
	maxAltText         = 2000
	maxLabelText       = 2000
)

var (
	anyText   = []string{"plain_text", "mrkdwn"}
	plainText = []string{"plain_text"}

	// Interactive elements allowed in an actions block.
	actionsElements = []string{
		"button", "checkboxes", "datepicker", "datetimepicker", "overflow",
		"radio_buttons", "rich_text_input", "timepicker", "workflow_button",
		"static_select", "external_select", "users_select", "conversations_select", "channels_select",
		"multi_static_select", "multi_external_select", "multi_users_select",
		"multi_conversations_select", "multi_channels_select",
		"plain_text_input", "email_text_input", "number_input", "url_text_input",
	}
	// Elements allowed as a section accessory.
	accessoryElements = []string{
		"button", "checkboxes", "datepicker", "image", "overflow", "radio_buttons",
		"timepicker", "workflow_button",
		"static_select", "external_select", "users_select", "conversations_select", "channels_select",
		"multi_static_select", "multi_external_select", "multi_users_select",
		"multi_conversations_select", "multi_channels_select",
	}
	// Elements allowed in an input block.
	inputElements = []string{
		"checkboxes", "datepicker", "datetimepicker", "email_text_input", "file_input",
		"number_input", "plain_text_input", "radio_buttons", "rich_text_input", "timepicker",
		"url_text_input",
		"static_select", "external_select", "users_select", "conversations_select", "channels_select",
		"multi_static_select", "multi_external_select", "multi_users_select",
		"multi_conversations_select", "multi_channels_select",
	}
)

// ValidateBlocks checks the "blocks" array of a message against Block Kit's
// rules and returns Slack's error strings (the "errors" of an invalid_blocks
// answer, e.g. "must be less than 151 characters
// [json-pointer:/blocks/0/text/text]"), or nil if the blocks are valid.
//
// Enforced: at most 50 blocks; known block types (section, header, divider,
// context, actions, image, rich_text, input); header text plain_text of at
// most 150 characters; section text at most 3000 characters, at most 10
// fields of at most 2000, and text or fields required; context at most 10
// elements; actions at most 25 elements; button text plain_text of at most
// 75 characters, value at most 2000, url at most 3000; action_id and
// block_id at most 255 characters and unique within the message; text
// objects of type plain_text or mrkdwn with non-empty text.
//
// The message wording follows Slack's where it is known from real answers
// ("must be less than N characters", "must be more than 0 characters",
// "no more than N items allowed", "must provide at least 1 items",
// "unsupported type: X", "missing required field: X", "must provide an
// object", "failed to match all allowed schemas", "`action_id` \"x\" already
// exists"); the block_id duplicate message mirrors the action_id one.
func ValidateBlocks(blocks json.RawMessage) []string {
	v := &blockValidator{blockIDs: map[string]bool{}, actionIDs: map[string]bool{}}
	v.blockList(blocks, "/blocks", maxMessageBlocks)
	return v.errs
}

type blockValidator struct {
	errs      []string
	blockIDs  map[string]bool
	actionIDs map[string]bool
}

func (v *blockValidator) errorf(ptr, format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...)+" [json-pointer:"+ptr+"]")
}

// object decodes a JSON object; null and non-objects give ok == false.
func object(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, false
	}
	return obj, true
}

// field returns obj[key], treating JSON null as absent.
func field(obj map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	raw, ok := obj[key]
	if !ok || string(raw) == "null" {
		return nil, false
	}
	return raw, true
}

// array decodes a JSON array, reporting "must provide an array" otherwise.
func (v *blockValidator) array(raw json.RawMessage, ptr string) ([]json.RawMessage, bool) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		v.errorf(ptr, "must provide an array")
		return nil, false
	}
	return list, true
}

// items checks an array's size: at least 1 and at most max items.
func (v *blockValidator) items(raw json.RawMessage, ptr string, max int) []json.RawMessage {
	list, ok := v.array(raw, ptr)
	if !ok {
		return nil
	}
	if len(list) == 0 {
		v.errorf(ptr, "must provide at least 1 items")
	}
	if len(list) > max {
		v.errorf(ptr, "no more than %d items allowed", max)
	}
	return list
}

// str checks an optional string field of at most max characters and
// returns its value.
func (v *blockValidator) str(obj map[string]json.RawMessage, key, ptr string, max int) (string, bool) {
	raw, ok := field(obj, key)
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		v.errorf(ptr+"/"+key, "must provide a string")
		return "", false
	}
	if utf8.RuneCountInString(s) > max {
		v.errorf(ptr+"/"+key, "must be less than %d characters", max+1)
	}
	return s, true
}

// id checks an optional block_id or action_id: length and uniqueness within
// the message.
func (v *blockValidator) id(obj map[string]json.RawMessage, key, ptr string, seen map[string]bool) {
	s, ok := v.str(obj, key, ptr, maxID)
	if !ok {
		return
	}
	if seen[s] {
		v.errorf(ptr+"/"+key, "`%s` %q already exists", key, s)
	}
	seen[s] = true
}

// typeOf returns an object's "type", reporting it missing otherwise.
func (v *blockValidator) typeOf(obj map[string]json.RawMessage, ptr string) (string, bool) {
	raw, ok := field(obj, "type")
	if !ok {
		v.errorf(ptr, "missing required field: type")
		return "", false
	}
	var t string
	if err := json.Unmarshal(raw, &t); err != nil {
		v.errorf(ptr+"/type", "unsupported type: %s", raw)
		return "", false
	}
	return t, true
}

// required returns a required field, reporting it missing otherwise.
func (v *blockValidator) required(obj map[string]json.RawMessage, key, ptr string) (json.RawMessage, bool) {
	raw, ok := field(obj, key)
	if !ok {
		v.errorf(ptr, "missing required field: %s", key)
	}
	return raw, ok
}

// text checks a text object of one of types whose text is non-empty and at
// most max characters (max 0: no limit). When more than one type is allowed
// Slack reports a failed text object twice, as in
// web-api/chat.postMessage.invalid_blocks.json: "failed to match all allowed
// schemas" on the object, then the specific error.
func (v *blockValidator) text(raw json.RawMessage, ptr string, types []string, max int) {
	obj, ok := object(raw)
	if !ok {
		v.errorf(ptr, "must provide an object")
		return
	}
	t, ok := v.typeOf(obj, ptr)
	if !ok {
		return
	}
	if !slices.Contains(types, t) {
		v.errorf(ptr+"/type", "unsupported type: %s", t)
		return
	}
	inner := &blockValidator{}
	if rawText, ok := inner.required(obj, "text", ptr); ok {
		var s string
		switch {
		case json.Unmarshal(rawText, &s) != nil:
			inner.errorf(ptr+"/text", "must provide a string")
		case s == "":
			inner.errorf(ptr+"/text", "must be more than 0 characters")
		case max > 0 && utf8.RuneCountInString(s) > max:
			inner.errorf(ptr+"/text", "must be less than %d characters", max+1)
		}
	}
	if len(inner.errs) > 0 && len(types) > 1 {
		v.errorf(ptr, "failed to match all allowed schemas")
	}
	v.errs = append(v.errs, inner.errs...)
}

func (v *blockValidator) blockList(raw json.RawMessage, ptr string, max int) {
	list, ok := v.array(raw, ptr)
	if !ok {
		return
	}
	if len(list) > max {
		v.errorf(ptr, "no more than %d items allowed", max)
	}
	for i, b := range list {
		v.block(b, fmt.Sprintf("%s/%d", ptr, i))
	}
}

func (v *blockValidator) block(raw json.RawMessage, ptr string) {
	obj, ok := object(raw)
	if !ok {
		v.errorf(ptr, "must provide an object")
		return
	}
	t, ok := v.typeOf(obj, ptr)
	if !ok {
		return
	}
	switch t {
	case "section":
		v.section(obj, ptr)
	case "header":
		if text, ok := v.required(obj, "text", ptr); ok {
			v.text(text, ptr+"/text", plainText, maxHeaderText)
		}
	case "divider":
	case "context":
		if els, ok := v.required(obj, "elements", ptr); ok {
			for i, el := range v.items(els, ptr+"/elements", maxContextElements) {
				v.contextElement(el, fmt.Sprintf("%s/elements/%d", ptr, i))
			}
		}
	case "actions":
		if els, ok := v.required(obj, "elements", ptr); ok {
			for i, el := range v.items(els, ptr+"/elements", maxActionsElements) {
				v.element(el, fmt.Sprintf("%s/elements/%d", ptr, i), actionsElements)
			}
		}
	case "image":
		v.image(obj, ptr, true)
	case "rich_text":
		if els, ok := v.required(obj, "elements", ptr); ok {
			v.array(els, ptr+"/elements")
		}
	case "input":
		if label, ok := v.required(obj, "label", ptr); ok {
			v.text(label, ptr+"/label", plainText, maxLabelText)
		}
		if el, ok := v.required(obj, "element", ptr); ok {
			v.element(el, ptr+"/element", inputElements)
		}
		if hint, ok := field(obj, "hint"); ok {
			v.text(hint, ptr+"/hint", plainText, maxLabelText)
		}
	default:
		v.errorf(ptr+"/type", "unsupported type: %s", t)
		return
	}
	v.id(obj, "block_id", ptr, v.blockIDs)
}

func (v *blockValidator) section(obj map[string]json.RawMessage, ptr string) {
	text, hasText := field(obj, "text")
	fields, hasFields := field(obj, "fields")
	if !hasText && !hasFields {
		v.errorf(ptr+"/type", "must define either `text` or `fields`")
	}
	if hasText {
		v.text(text, ptr+"/text", anyText, maxSectionText)
	}
	if hasFields {
		for i, f := range v.items(fields, ptr+"/fields", maxSectionFields) {
			v.text(f, fmt.Sprintf("%s/fields/%d", ptr, i), anyText, maxFieldText)
		}
	}
	if acc, ok := field(obj, "accessory"); ok {
		v.element(acc, ptr+"/accessory", accessoryElements)
	}
}

func (v *blockValidator) contextElement(raw json.RawMessage, ptr string) {
	obj, ok := object(raw)
	if !ok {
		v.errorf(ptr, "must provide an object")
		return
	}
	t, ok := v.typeOf(obj, ptr)
	if !ok {
		return
	}
	switch t {
	case "image":
		v.image(obj, ptr, false)
	case "plain_text", "mrkdwn":
		v.text(raw, ptr, anyText, 0)
	default:
		v.errorf(ptr+"/type", "unsupported type: %s", t)
	}
}

// image checks an image block (block == true) or image element: a source
// (image_url or slack_file) and alt_text are required.
func (v *blockValidator) image(obj map[string]json.RawMessage, ptr string, block bool) {
	_, hasURL := v.str(obj, "image_url", ptr, maxURL)
	if _, hasFile := field(obj, "slack_file"); !hasURL && !hasFile {
		v.errorf(ptr, "missing required field: image_url")
	}
	if _, ok := v.required(obj, "alt_text", ptr); ok {
		v.str(obj, "alt_text", ptr, maxAltText)
	}
	if title, ok := field(obj, "title"); ok && block {
		v.text(title, ptr+"/title", plainText, maxAltText)
	}
}

// element checks an interactive element whose type must be in allowed.
func (v *blockValidator) element(raw json.RawMessage, ptr string, allowed []string) {
	obj, ok := object(raw)
	if !ok {
		v.errorf(ptr, "must provide an object")
		return
	}
	t, ok := v.typeOf(obj, ptr)
	if !ok {
		return
	}
	if !slices.Contains(allowed, t) {
		v.errorf(ptr+"/type", "unsupported type: %s", t)
		return
	}
	if t == "image" {
		v.image(obj, ptr, false)
		return
	}
	v.id(obj, "action_id", ptr, v.actionIDs)
	if t == "button" {
		if text, ok := v.required(obj, "text", ptr); ok {
			v.text(text, ptr+"/text", plainText, maxButtonText)
		}
		v.str(obj, "value", ptr, maxButtonValue)
		v.str(obj, "url", ptr, maxURL)
		if style, ok := v.str(obj, "style", ptr, 100); ok && style != "primary" && style != "danger" {
			v.errorf(ptr+"/style", "must be one of primary, danger")
		}
	}
}
