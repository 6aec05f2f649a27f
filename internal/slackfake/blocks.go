package slackfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// Block limits of Slack's surfaces.
const (
	// MaxMessageBlocks is the most blocks a message may have.
	MaxMessageBlocks = 50
	// MaxViewBlocks is the most blocks a modal or a home tab may have.
	MaxViewBlocks = 100
)

// Block Kit limits enforced by ValidateBlocks (docs.slack.dev/reference/block-kit).
const (
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
	maxPlaceholder     = 150
	maxInputLength     = 3000 // plain_text_input max_length and min_length
	maxSelectOptions   = 100  // options and option_groups of a select menu
	maxChoiceOptions   = 10   // options of checkboxes and radio buttons
	maxOverflowOptions = 5
	maxOptionText      = 75 // option text and description, option group label
	maxOptionValue     = 150
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
// [json-pointer:/blocks/0/text/text]"), or nil if the blocks are valid. It
// is ValidateBlocksMax(blocks, MaxMessageBlocks).
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
// Input blocks: label plain_text of at most 2000 characters and element
// required, hint plain_text of at most 2000, optional and dispatch_action
// booleans, and the element one of the input element types.
//
// Elements: placeholder plain_text of at most 150 characters;
// plain_text_input multiline boolean, max_length and min_length integers of
// at most 3000, initial_value a string; static_select (and
// multi_static_select) options or option_groups required, at most 100 of
// each, option text plain_text; checkboxes and radio_buttons 1 to 10
// options, text plain_text or mrkdwn; overflow at most 5 options; options
// with text of at most 75 characters, value required and at most 150,
// description at most 75; initial_option(s) shaped as options; datepicker
// initial_date as YYYY-MM-DD.
//
// The message wording follows Slack's where it is known from real answers
// ("must be less than N characters", "must be more than 0 characters",
// "no more than N items allowed", "must provide at least 1 items",
// "unsupported type: X", "missing required field: X", "must provide an
// object", "failed to match all allowed schemas", "`action_id` \"x\" already
// exists"); the block_id duplicate message mirrors the action_id one. The
// wording of the numeric ("must be less than 3001"), boolean ("must provide
// a boolean"), date and options-or-option_groups errors is this fake's own.
func ValidateBlocks(blocks json.RawMessage) []string {
	return ValidateBlocksMax(blocks, MaxMessageBlocks)
}

// ValidateBlocksMax is ValidateBlocks with another limit on the number of
// blocks (MaxViewBlocks for modals and home tabs).
func ValidateBlocksMax(blocks json.RawMessage, maxBlocks int) []string {
	v := newBlockValidator()
	v.blockList(blocks, "/blocks", maxBlocks)
	return v.errs
}

type blockValidator struct {
	errs      []string
	blockIDs  map[string]bool
	actionIDs map[string]bool
	// actionIDsPerBlock makes action_id uniqueness per block, as in views
	// (captured view_submission payloads have several input blocks whose
	// elements share one action_id), instead of per message.
	actionIDsPerBlock bool
}

func newBlockValidator() *blockValidator {
	return &blockValidator{blockIDs: map[string]bool{}, actionIDs: map[string]bool{}}
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
	if v.actionIDsPerBlock {
		clear(v.actionIDs)
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
		v.boolean(obj, "optional", ptr)
		v.boolean(obj, "dispatch_action", ptr)
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
	if placeholder, ok := field(obj, "placeholder"); ok {
		v.text(placeholder, ptr+"/placeholder", plainText, maxPlaceholder)
	}
	switch t {
	case "button":
		if text, ok := v.required(obj, "text", ptr); ok {
			v.text(text, ptr+"/text", plainText, maxButtonText)
		}
		v.str(obj, "value", ptr, maxButtonValue)
		v.str(obj, "url", ptr, maxURL)
		if style, ok := v.str(obj, "style", ptr, 100); ok && style != "primary" && style != "danger" {
			v.errorf(ptr+"/style", "must be one of primary, danger")
		}
	case "plain_text_input":
		v.boolean(obj, "multiline", ptr)
		v.integer(obj, "max_length", ptr, 1, maxInputLength)
		v.integer(obj, "min_length", ptr, 0, maxInputLength)
		v.str(obj, "initial_value", ptr, maxInputLength)
	case "static_select", "multi_static_select":
		v.staticSelect(obj, ptr, t == "multi_static_select")
	case "checkboxes":
		v.choices(obj, ptr, "initial_options")
	case "radio_buttons":
		v.choices(obj, ptr, "initial_option")
	case "overflow":
		if opts, ok := v.required(obj, "options", ptr); ok {
			for i, o := range v.items(opts, ptr+"/options", maxOverflowOptions) {
				v.option(o, fmt.Sprintf("%s/options/%d", ptr, i), plainText)
			}
		}
	case "datepicker":
		if d, ok := v.str(obj, "initial_date", ptr, 10); ok {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				v.errorf(ptr+"/initial_date", "must be a date in the format YYYY-MM-DD")
			}
		}
	}
}

// staticSelect checks a static select menu's options or option_groups and
// initial option(s).
func (v *blockValidator) staticSelect(obj map[string]json.RawMessage, ptr string, multi bool) {
	opts, hasOpts := field(obj, "options")
	groups, hasGroups := field(obj, "option_groups")
	switch {
	case hasOpts:
		for i, o := range v.items(opts, ptr+"/options", maxSelectOptions) {
			v.option(o, fmt.Sprintf("%s/options/%d", ptr, i), plainText)
		}
	case hasGroups:
		for i, g := range v.items(groups, ptr+"/option_groups", maxSelectOptions) {
			gptr := fmt.Sprintf("%s/option_groups/%d", ptr, i)
			gobj, ok := object(g)
			if !ok {
				v.errorf(gptr, "must provide an object")
				continue
			}
			if label, ok := v.required(gobj, "label", gptr); ok {
				v.text(label, gptr+"/label", plainText, maxOptionText)
			}
			if gopts, ok := v.required(gobj, "options", gptr); ok {
				for j, o := range v.items(gopts, gptr+"/options", maxSelectOptions) {
					v.option(o, fmt.Sprintf("%s/options/%d", gptr, j), plainText)
				}
			}
		}
	default:
		v.errorf(ptr+"/type", "must define either `options` or `option_groups`")
	}
	if multi {
		v.initialOptions(obj, ptr, "initial_options", plainText)
	} else {
		v.initialOptions(obj, ptr, "initial_option", plainText)
	}
}

// choices checks the options of checkboxes and radio buttons, and their
// initial option(s) (key).
func (v *blockValidator) choices(obj map[string]json.RawMessage, ptr, key string) {
	if opts, ok := v.required(obj, "options", ptr); ok {
		for i, o := range v.items(opts, ptr+"/options", maxChoiceOptions) {
			v.option(o, fmt.Sprintf("%s/options/%d", ptr, i), anyText)
		}
	}
	v.initialOptions(obj, ptr, key, anyText)
}

// initialOptions checks initial_option (one option) or initial_options (an
// array of options).
func (v *blockValidator) initialOptions(obj map[string]json.RawMessage, ptr, key string, textTypes []string) {
	raw, ok := field(obj, key)
	if !ok {
		return
	}
	if key == "initial_option" {
		v.option(raw, ptr+"/"+key, textTypes)
		return
	}
	if list, ok := v.array(raw, ptr+"/"+key); ok {
		for i, o := range list {
			v.option(o, fmt.Sprintf("%s/%s/%d", ptr, key, i), textTypes)
		}
	}
}

// option checks an option object: text (of textTypes) of at most 75
// characters, a value of at most 150, an optional description.
func (v *blockValidator) option(raw json.RawMessage, ptr string, textTypes []string) {
	obj, ok := object(raw)
	if !ok {
		v.errorf(ptr, "must provide an object")
		return
	}
	if text, ok := v.required(obj, "text", ptr); ok {
		v.text(text, ptr+"/text", textTypes, maxOptionText)
	}
	if _, ok := v.required(obj, "value", ptr); ok {
		v.str(obj, "value", ptr, maxOptionValue)
	}
	if desc, ok := field(obj, "description"); ok {
		v.text(desc, ptr+"/description", textTypes, maxOptionText)
	}
	v.str(obj, "url", ptr, maxURL)
}

// boolean checks an optional boolean field.
func (v *blockValidator) boolean(obj map[string]json.RawMessage, key, ptr string) {
	raw, ok := field(obj, key)
	if !ok {
		return
	}
	var b bool
	if json.Unmarshal(raw, &b) != nil {
		v.errorf(ptr+"/"+key, "must provide a boolean")
	}
}

// integer checks an optional integer field between lo and hi.
func (v *blockValidator) integer(obj map[string]json.RawMessage, key, ptr string, lo, hi int) {
	raw, ok := field(obj, key)
	if !ok {
		return
	}
	var n int
	switch {
	case json.Unmarshal(raw, &n) != nil:
		v.errorf(ptr+"/"+key, "must provide an integer")
	case n > hi:
		v.errorf(ptr+"/"+key, "must be less than %d", hi+1)
	case n < lo:
		v.errorf(ptr+"/"+key, "must be more than %d", lo-1)
	}
}
