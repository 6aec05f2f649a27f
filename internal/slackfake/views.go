package slackfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Limits of views (docs.slack.dev/reference/views).
const (
	// TriggerLifetime is how long a trigger_id can be exchanged after it was
	// issued, by the server's clock.
	TriggerLifetime = 3 * time.Second

	maxViewTitle       = 24 // title, submit and close texts
	maxPrivateMetadata = 3000
	maxCallbackID      = 255
	maxExternalID      = 255
	maxViewStack       = 3          // views in a modal stack, root included
	maxViewSize        = 250 * 1024 // view_too_large above this
)

// View is a snapshot of an open modal or a published home tab.
type View struct {
	ID              string
	Type            string // "modal" or "home"
	CallbackID      string
	PrivateMetadata string
	ExternalID      string
	Hash            string // changes on every update
	User            string // who sees it: the trigger's user, or the home tab's
	Title           string // the title's text (modals only)
	Blocks          json.RawMessage
	Raw             json.RawMessage // the view object as last sent by the bot
	// RootViewID is the ID of the first view of the modal's stack (its own
	// ID for a root modal or a home tab); PreviousViewID is the view below
	// it in the stack ("" for a root).
	RootViewID     string
	PreviousViewID string
}

type trigger struct {
	issued time.Time
	user   string
	used   bool
}

type view struct {
	View
	title, submit, close        json.RawMessage // text objects, nil when absent
	clearOnClose, notifyOnClose bool
}

func (v *view) snapshot() View {
	c := v.View
	c.Blocks = slices.Clone(v.Blocks)
	c.Raw = slices.Clone(v.Raw)
	return c
}

// NewTriggerID issues a trigger_id, as Slack puts in slash-command and
// interaction payloads, for views.open and views.push to exchange. It can be
// exchanged once, within TriggerLifetime (by the server's clock). Views
// opened with it have no User; see NewTriggerIDFor.
func (s *Server) NewTriggerID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newTriggerLocked("")
}

// NewTriggerIDFor is NewTriggerID for an interaction by a user: the modal
// opened with it belongs to that user (View.User), and views.push with it
// pushes onto that user's newest modal stack. It panics if the user is
// unknown.
func (s *Server) NewTriggerIDFor(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[userID] == nil {
		panic(fmt.Sprintf("slackfake: NewTriggerIDFor: unknown user %q", userID))
	}
	return s.newTriggerLocked(userID)
}

func (s *Server) newTriggerLocked(user string) string {
	s.nextTrigger++
	// Slack's format: "<digits>.<digits>.<hex>".
	id := fmt.Sprintf("%d.%d.%s", 1000000000+s.nextTrigger, s.clock().Unix(), randomHex(16))
	s.triggers[id] = &trigger{issued: s.clock(), user: user}
	return id
}

// Views returns the open modals, in the order they were opened or pushed.
// Modals stay open until CloseView.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, 0, len(s.viewOrder))
	for _, id := range s.viewOrder {
		out = append(out, s.views[id].snapshot())
	}
	return out
}

// View returns an open modal or a home tab by ID.
func (s *Server) View(id string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.views[id]
	if !ok {
		return View{}, false
	}
	return v.snapshot(), true
}

// HomeView returns the home tab published for a user.
func (s *Server) HomeView(userID string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.homes[userID]
	if !ok {
		return View{}, false
	}
	return s.views[id].snapshot(), true
}

// ValidateView checks a view object (the "view" argument of views.open,
// views.push, views.update and views.publish) and returns Slack's error
// strings, with JSON pointers under /view, or nil if it is valid. The rules
// depend on the view's type:
//
//   - both: type (modal or home) and blocks required, at most 100 blocks
//     (ValidateBlocksMax rules, except that action_id need only be unique
//     within a block), private_metadata at most 3000 characters, callback_id
//     and external_id at most 255;
//   - modal: title required; title, submit and close plain_text of at most
//     24 characters; submit required when there is an input block.
//
// A view without a type is checked as a modal, which gives Slack's answer
// for an empty view (web-api/views.open.invalid_arguments-schema.json).
func ValidateView(view json.RawMessage) []string {
	v := newBlockValidator()
	v.actionIDsPerBlock = true
	const ptr = "/view"
	obj, ok := object(view)
	if !ok {
		v.errorf(ptr, "must provide an object")
		return v.errs
	}
	t, hasType := "", false
	if rawType, ok := field(obj, "type"); ok {
		hasType = true
		if json.Unmarshal(rawType, &t) != nil {
			t = string(rawType)
		}
	}
	modal := !hasType || t == "modal"
	title, hasTitle := field(obj, "title")
	if modal && !hasTitle {
		v.errorf(ptr, "missing required field: title")
	}
	blocks, hasBlocks := field(obj, "blocks")
	if !hasBlocks {
		v.errorf(ptr, "missing required field: blocks")
	}
	switch {
	case !hasType:
		v.errorf(ptr, "missing required field: type")
	case t != "modal" && t != "home":
		v.errorf(ptr+"/type", "unsupported type: %s", t)
	}
	if modal {
		if hasTitle {
			v.text(title, ptr+"/title", plainText, maxViewTitle)
		}
		for _, key := range []string{"submit", "close"} {
			if raw, ok := field(obj, key); ok {
				v.text(raw, ptr+"/"+key, plainText, maxViewTitle)
			}
		}
	}
	if hasBlocks {
		v.blockList(blocks, ptr+"/blocks", MaxViewBlocks)
		if _, hasSubmit := field(obj, "submit"); modal && !hasSubmit && hasInputBlock(blocks) {
			v.errorf(ptr, "missing required field: submit")
		}
	}
	v.str(obj, "private_metadata", ptr, maxPrivateMetadata)
	v.str(obj, "callback_id", ptr, maxCallbackID)
	v.str(obj, "external_id", ptr, maxExternalID)
	v.boolean(obj, "clear_on_close", ptr)
	v.boolean(obj, "notify_on_close", ptr)
	return v.errs
}

func hasInputBlock(blocks json.RawMessage) bool {
	var list []struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(blocks, &list)
	return slices.ContainsFunc(list, func(b struct {
		Type string `json:"type"`
	}) bool {
		return b.Type == "input"
	})
}

// invalidArguments shapes an invalid_arguments error like
// web-api/views.open.invalid_arguments*.json.
func invalidArguments(msgs ...string) result {
	res := apiErr("invalid_arguments")
	res["response_metadata"] = result{"messages": msgs}
	return res
}

// parseView reads and validates the "view" argument for a view of type
// want, returning it as a new view (no ID yet) or an error answer.
func parseView(r *request, want string) (*view, result) {
	raw, ok := r.params["view"]
	if !ok || raw == "" {
		return nil, invalidArguments("[ERROR] missing required field: view")
	}
	if len(raw) > maxViewSize {
		return nil, apiErr("view_too_large")
	}
	errs := ValidateView(json.RawMessage(raw))
	var fields struct {
		Type            string          `json:"type"`
		Title           json.RawMessage `json:"title"`
		Submit          json.RawMessage `json:"submit"`
		Close           json.RawMessage `json:"close"`
		Blocks          json.RawMessage `json:"blocks"`
		PrivateMetadata string          `json:"private_metadata"`
		CallbackID      string          `json:"callback_id"`
		ExternalID      string          `json:"external_id"`
		ClearOnClose    bool            `json:"clear_on_close"`
		NotifyOnClose   bool            `json:"notify_on_close"`
	}
	if len(errs) == 0 {
		if err := json.Unmarshal([]byte(raw), &fields); err != nil {
			errs = append(errs, "must provide an object [json-pointer:/view]")
		} else if fields.Type != want {
			errs = append(errs, fmt.Sprintf("unsupported type: %s [json-pointer:/view/type]", fields.Type))
		}
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = "[ERROR] " + e
		}
		return nil, invalidArguments(msgs...)
	}
	v := &view{
		View: View{
			Type:            fields.Type,
			CallbackID:      fields.CallbackID,
			PrivateMetadata: fields.PrivateMetadata,
			ExternalID:      fields.ExternalID,
			Blocks:          compact(fields.Blocks),
			Raw:             compact(json.RawMessage(raw)),
		},
		clearOnClose:  fields.ClearOnClose,
		notifyOnClose: fields.NotifyOnClose,
	}
	if want == "modal" {
		v.title, v.submit, v.close = nullToNil(fields.Title), nullToNil(fields.Submit), nullToNil(fields.Close)
		var title struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal(v.title, &title)
		v.Title = title.Text
	}
	return v, nil
}

func compact(raw json.RawMessage) json.RawMessage {
	out, err := json.Marshal(raw) // validates and compacts
	if err != nil {
		return slices.Clone(raw)
	}
	return out
}

func nullToNil(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

// takeTriggerLocked checks the trigger_id (or interactivity_pointer) of a
// views.open or views.push call without exchanging it.
func (s *Server) takeTriggerLocked(r *request) (*trigger, result) {
	id := r.get("trigger_id")
	if id == "" {
		id = r.get("interactivity_pointer")
	}
	if id == "" {
		return nil, invalidArguments("invalid `trigger_id`")
	}
	t := s.triggers[id]
	switch {
	case t == nil:
		return nil, apiErr("invalid_trigger_id")
	case t.used:
		return nil, apiErr("exchanged_trigger_id")
	case s.clock().Sub(t.issued) >= TriggerLifetime:
		return nil, apiErr("expired_trigger_id")
	}
	return t, nil
}

// externalIDTakenLocked reports whether another view than self uses the
// external_id.
func (s *Server) externalIDTakenLocked(externalID, self string) bool {
	if externalID == "" {
		return false
	}
	for id, v := range s.views {
		if id != self && v.ExternalID == externalID {
			return true
		}
	}
	return false
}

func (s *Server) newViewIDLocked() string {
	s.nextView++
	return fmt.Sprintf("V%08d", s.nextView)
}

// newHashLocked returns a view hash shaped like Slack's ("1569262015.55b5e41b").
func (s *Server) newHashLocked() string {
	s.nextHash++
	return fmt.Sprintf("%d.%08x", s.clock().Unix(), uint32(s.nextHash)*2654435761)
}

// viewJSON renders a view shaped like web-api/views.open.json.
func (s *Server) viewJSON(v *view) result {
	var prev any
	if v.PreviousViewID != "" {
		prev = v.PreviousViewID
	}
	res := result{
		"id":                    v.ID,
		"team_id":               s.teamID,
		"type":                  v.Type,
		"blocks":                json.RawMessage(v.Blocks),
		"private_metadata":      v.PrivateMetadata,
		"callback_id":           v.CallbackID,
		"external_id":           v.ExternalID,
		"state":                 result{"values": result{}},
		"hash":                  v.Hash,
		"clear_on_close":        v.clearOnClose,
		"notify_on_close":       v.notifyOnClose,
		"close":                 rawOrNull(v.close),
		"submit":                rawOrNull(v.submit),
		"root_view_id":          v.RootViewID,
		"previous_view_id":      prev,
		"app_id":                DefaultAppID,
		"app_installed_team_id": s.teamID,
		"bot_id":                DefaultBotID,
	}
	if v.Type == "modal" {
		res["title"] = rawOrNull(v.title)
	}
	return res
}

func rawOrNull(raw json.RawMessage) any {
	if raw == nil {
		return nil
	}
	return raw
}

// userStackLocked returns the newest modal stack of a user (view IDs, root
// first), or nil.
func (s *Server) userStackLocked(user string) []string {
	root := ""
	for _, id := range s.viewOrder {
		if v := s.views[id]; v.User == user && v.RootViewID == id {
			root = id
		}
	}
	if root == "" {
		return nil
	}
	var stack []string
	for _, id := range s.viewOrder {
		if s.views[id].RootViewID == root {
			stack = append(stack, id)
		}
	}
	return stack
}

// CloseView closes an open modal as the user would, together with the
// views pushed on top of it (closing a root closes its whole stack). The
// closed views leave Views and View, and views.update answers not_found for
// them. It reports whether viewID was an open modal.
func (s *Server) CloseView(viewID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.views[viewID]
	if v == nil || v.Type != "modal" {
		return false
	}
	above := false
	s.viewOrder = slices.DeleteFunc(s.viewOrder, func(id string) bool {
		if id == viewID {
			above = true
		}
		if above && s.views[id].RootViewID == v.RootViewID {
			delete(s.views, id)
			return true
		}
		return false
	})
	return true
}

// viewsOpen opens a modal: the root of a new stack. Modals stay open until
// CloseView (the fake cannot know when a user closes one).
func (s *Server) viewsOpen(r *request) result {
	t, errRes := s.takeTriggerLocked(r)
	if errRes != nil {
		return errRes
	}
	v, errRes := parseView(r, "modal")
	if errRes != nil {
		return errRes
	}
	if s.externalIDTakenLocked(v.ExternalID, "") {
		return apiErr("duplicate_external_id")
	}
	t.used = true
	v.ID = s.newViewIDLocked()
	v.RootViewID = v.ID
	v.User = t.user
	v.Hash = s.newHashLocked()
	s.views[v.ID] = v
	s.viewOrder = append(s.viewOrder, v.ID)
	return success(result{"view": s.viewJSON(v)})
}

// viewsPush pushes a modal onto the newest modal stack opened with a trigger
// of the same user (NewTriggerIDFor; for NewTriggerID triggers, the newest
// stack opened with one of those).
func (s *Server) viewsPush(r *request) result {
	t, errRes := s.takeTriggerLocked(r)
	if errRes != nil {
		return errRes
	}
	v, errRes := parseView(r, "modal")
	if errRes != nil {
		return errRes
	}
	stack := s.userStackLocked(t.user)
	if len(stack) == 0 {
		return apiErr("not_found")
	}
	if len(stack) >= maxViewStack {
		return apiErr("push_limit_reached")
	}
	if s.externalIDTakenLocked(v.ExternalID, "") {
		return apiErr("duplicate_external_id")
	}
	t.used = true
	v.ID = s.newViewIDLocked()
	v.RootViewID = stack[0]
	v.PreviousViewID = stack[len(stack)-1]
	v.User = t.user
	v.Hash = s.newHashLocked()
	s.views[v.ID] = v
	s.viewOrder = append(s.viewOrder, v.ID)
	return success(result{"view": s.viewJSON(v)})
}

// viewsUpdate replaces an open modal (or a home tab) found by view_id or
// external_id. An external_id left out of the new view is kept.
func (s *Server) viewsUpdate(r *request) result {
	viewID, externalID := r.get("view_id"), r.get("external_id")
	if viewID == "" && externalID == "" {
		return invalidArguments("[ERROR] either `view_id` or `external_id` is required")
	}
	var old *view
	if viewID != "" {
		old = s.views[viewID]
	} else {
		for _, v := range s.views {
			if v.ExternalID == externalID {
				old = v
			}
		}
	}
	if old == nil {
		return apiErr("not_found")
	}
	if h := r.get("hash"); h != "" && h != old.Hash {
		return apiErr("hash_conflict")
	}
	v, errRes := parseView(r, old.Type)
	if errRes != nil {
		return errRes
	}
	if v.ExternalID == "" {
		v.ExternalID = old.ExternalID
	} else if s.externalIDTakenLocked(v.ExternalID, old.ID) {
		return apiErr("duplicate_external_id")
	}
	v.ID, v.RootViewID, v.PreviousViewID, v.User = old.ID, old.RootViewID, old.PreviousViewID, old.User
	v.Hash = s.newHashLocked()
	s.views[v.ID] = v
	return success(result{"view": s.viewJSON(v)})
}

// viewsPublish publishes a user's home tab. The home tab keeps its view ID
// across publishes; hash, when given, must match the current one.
func (s *Server) viewsPublish(r *request) result {
	user := r.get("user_id")
	if s.users[user] == nil {
		return invalidArguments("invalid `user_id`")
	}
	v, errRes := parseView(r, "home")
	if errRes != nil {
		return errRes
	}
	oldID := s.homes[user]
	if h := r.get("hash"); h != "" && oldID != "" && h != s.views[oldID].Hash {
		return apiErr("hash_conflict")
	}
	if s.externalIDTakenLocked(v.ExternalID, oldID) {
		return apiErr("duplicate_external_id")
	}
	if oldID == "" {
		oldID = s.newViewIDLocked()
		s.homes[user] = oldID
	}
	v.ID, v.RootViewID, v.User = oldID, oldID, user
	v.Hash = s.newHashLocked()
	s.views[v.ID] = v
	return success(result{"view": s.viewJSON(v)})
}
