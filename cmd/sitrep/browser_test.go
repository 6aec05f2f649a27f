package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's Chromium. The browser test needs it: .ci/run
// installs it and sets SITREP_BROWSER_TEST=required, so that in CI a
// missing browser fails the test instead of skipping it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("SITREP_BROWSER_TEST") == "required" {
		t.Fatal("SITREP_BROWSER_TEST=required but no chromium on PATH; install Debian's chromium package (.ci/run does)")
	}
	t.Skip("skipped: no chromium on PATH (install Debian's chromium package; .ci/run does). " +
		"SITREP_BROWSER_TEST is not \"required\"; set SITREP_BROWSER_TEST=required to fail instead of skipping")
	return ""
}

// TestPlaygroundInABrowser drives the playground page in headless
// Chromium as a newcomer would: declares an incident from the composer,
// opens its channel, changes the severity and opens the update form from
// the card, submits it, answers a checklist question, and reads the
// timeline. With SITREP_SCREENSHOT=file it saves the page, card and
// checklist in view, for the README.
func TestPlaygroundInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	exe := chromium(t)
	pg := startPlayground(t)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	fail := func(what string, err error) {
		t.Helper()
		page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("%s: %v\nplayground output:\n%s\npage:\n%.4000s", what, err, pg.out, page)
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			fail(what, err)
		}
	}
	eval := func(what, expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			fail(what, err)
		}
		return v
	}
	// waitText waits until the text JavaScript expression expr gives
	// holds want. The page polls Sitrep's state, so this polls the page.
	waitText := func(what, expr, want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, version := eval(what, expr), eval(what, `document.body.dataset.version || ""`)
			if strings.Contains(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the page shows %q, want it to contain %q\nplayground output:\n%s", what, got, want, pg.out)
			}
			// Look again once the page has shown a newer state (or after
			// a second, for changes the version does not cover).
			wctx, cancel := context.WithTimeout(ctx, time.Second)
			chromedp.Run(wctx, chromedp.Poll[bool](`document.body.dataset.version !== `+strconv.Quote(version), chromedp.WithPollingInterval(50*time.Millisecond)))
			cancel()
		}
	}
	text := func(sel string) string { return `(document.querySelector('` + sel + `') || {}).innerText || ""` }
	lastEphemeral := `([...document.querySelectorAll('[data-testid=message][data-ephemeral="true"]')].pop() || {}).innerText || ""`

	incChannel := `[data-testid=channel][data-name="inc-1-checkout-failing"]`
	messages := `document.body.innerText`
	step("open the page", chromedp.Navigate(pg.base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=composer]`)))
	step("be alice in #general",
		chromedp.SetValue(chromedp.CSS(`select[data-testid=user-switcher]`), "U0ALICE"), // SetValue sends input and change, as a person choosing does
		chromedp.Click(chromedp.CSS(`[data-testid=channel][data-name="general"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=composer]`)))
	step("declare from the composer",
		chromedp.SendKeys(chromedp.CSS(`textarea[data-testid=composer]`), "/incident declare sev1 Checkout failing\r"))
	waitText("the declaration answered", messages, "Declared incident #1")

	step("open the incident channel", chromedp.WaitVisible(chromedp.CSS(incChannel)), chromedp.Click(chromedp.CSS(incChannel)))
	waitText("the channel's topic", text(`[data-testid=topic]`), "sev1 · investigating · Checkout failing")
	step("the pinned card", chromedp.WaitVisible(chromedp.CSS(`[data-testid=message][data-pinned="true"] [data-action-id="card_update"]`)))

	// A select on the card: raise to sev0.
	step("raise the severity on the card",
		chromedp.SetValue(chromedp.CSS(`[data-testid=message][data-pinned="true"] select[data-action-id="card_severity"]`), "sev0"))
	waitText("the topic at sev0", text(`[data-testid=topic]`), "sev0 · investigating")

	// A button on the card: the update form.
	step("open the update form from the card",
		chromedp.Click(chromedp.CSS(`[data-testid=message][data-pinned="true"] button[data-action-id="card_update"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=modal]`)))
	waitText("the form's title", text(`[data-testid=modal-title]`), "Update #1")
	step("fill in and submit the form",
		chromedp.SendKeys(chromedp.CSS(`[data-testid=modal] [data-block-id="know"][data-action-id="know"]`), "The payment provider times out"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=modal] [data-block-id="doing"][data-action-id="doing"]`), "Failing over to the secondary"),
		chromedp.Click(chromedp.CSS(`[data-testid=modal-submit]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-testid=modal]`)))
	waitText("the update in the channel", messages, "Failing over to the secondary")

	// A checklist question.
	step("answer a checklist question",
		chromedp.Click(chromedp.CSS(`button[data-action-id="checklist_yes:recent-deploy"]`)))
	waitText("the answer's suggestion", messages, "rolling back")
	waitText("the checklist's progress", messages, "1/")

	if path := os.Getenv("SITREP_SCREENSHOT"); path != "" {
		step("frame the card and the checklist",
			chromedp.EmulateViewport(1280, 800),
			chromedp.ScrollIntoView(chromedp.CSS(`[data-testid=message][data-pinned="true"]`)))
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			fail("screenshot", err)
		}
		if err := os.WriteFile(filepath.Clean(path), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The timeline, as the commander reads it.
	step("ask for the timeline",
		chromedp.SendKeys(chromedp.CSS(`textarea[data-testid=composer]`), "/incident timeline\r"))
	waitText("the timeline", lastEphemeral, "Failing over to the secondary")
	timeline := eval("read the timeline", lastEphemeral)
	for _, want := range []string{"Declared as sev1", "Severity sev1 → sev0", "Checklist", "Status update"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("the timeline in the page does not say %q:\n%s", want, timeline)
		}
	}
}
