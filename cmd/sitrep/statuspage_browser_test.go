package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axeViolation is what the test keeps of one axe-core violation.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// runAxe is the script that runs axe-core over the whole page and returns
// its violations as JSON, each with the CSS selectors of the elements at
// fault, so a failure says where to look.
const runAxe = `axe.run(document, {resultTypes: ['violations']}).then((r) => JSON.stringify(r.violations.map((v) => ({
	id: v.id, impact: v.impact || '', help: v.help,
	targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
}))))`

// TestStatusPageInABrowser opens the public status page, after an incident
// is published with a component down, in headless Chromium as customers
// would: the overview and the incident's page, in a light and a dark
// colour scheme and at a phone's 390 pixels. Each view is screenshotted
// into the test's artifact directory (go test -artifacts keeps them), and
// axe-core, run inside the page, must find no serious or critical
// accessibility violation (contrast included, so the dark colours are
// checked too). With SITREP_SCREENSHOT_STATUS=file it also saves the
// light overview there, for the README.
func TestStatusPageInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	exe := chromium(t)
	axeJS, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatalf("the vendored axe-core (see testdata/axe/README.md): %v", err)
	}

	// Sitrep with its status page, and an incident published to it twice
	// (so the page has two public updates) with the API down.
	w := newWorld(t)
	sitrep := start(t, w.fake, testEnv(w.fake, w.db, "SITREP_STATUS_ADDR", "127.0.0.1:0", "SITREP_CONFIG", statusConfig(t, false)))
	if sitrep.status == "" {
		t.Fatal("the status listener did not start")
	}
	ch := w.declared(t, sitrep).ID
	publish := func(n int, status, component, msg string) {
		t.Helper()
		if a, _ := sitrep.slash(w.fake, "U1", ch, "publish"); a.Text != "" {
			t.Fatalf("publish answered %q", a.Text)
		}
		submitForm(t, sitrep, w.fake, "U1", "publish", n, obj{
			"pub_title":   obj{"pub_title": textValue("Checkout errors")},
			"pub_status":  obj{"pub_status": optionValue(status)},
			"pub_c:0":     obj{"pub_c:0": optionValue(component)},
			"pub_message": obj{"pub_message": textValue(msg)},
		})
	}
	publish(1, "investigating", "major_outage", "We are investigating errors when paying at checkout.")
	publish(2, "identified", "partial_outage", "A faulty deploy of the payment service is being rolled back.")
	var summary struct {
		Incidents []struct {
			ID              string
			IncidentUpdates []struct{ Body string } `json:"incident_updates"`
		}
	}
	eventually(t, "both updates on the public page", func() bool {
		_, body := publicGet(t, sitrep.status+"/api/v2/summary.json")
		return json.Unmarshal([]byte(body), &summary) == nil && len(summary.Incidents) == 1 && len(summary.Incidents[0].IncidentUpdates) == 2
	})
	incURL := sitrep.status + "/incidents/" + summary.Incidents[0].ID

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
	// The first Run starts the browser and must not carry the timeout
	// (it would stop the browser with it); later steps share one.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	defer cancelTimeout()

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(what, expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	// scheme makes the browser report the reader's colour preference, as
	// an operating system's dark mode does.
	scheme := func(s string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: s}},
			})
			return err
		})
	}
	out := t.ArtifactDir()
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(out, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// background is the page's background colour as the browser paints it.
	background := `getComputedStyle(document.body).backgroundColor`
	// The page must never scroll sideways, least of all on a phone.
	sideways := `(() => {
		const out = [];
		if (document.documentElement.scrollWidth > innerWidth) out.push('the page is ' + document.documentElement.scrollWidth + 'px wide');
		for (const e of document.querySelectorAll('body *')) {
			const r = e.getBoundingClientRect();
			if (r.width && r.right > innerWidth + 1) out.push((e.className || e.tagName) + ' reaches ' + Math.round(r.right) + 'px');
		}
		return out.slice(0, 5).join('; ');
	})()`

	// audit runs axe-core in the page. The status page's CSP forbids
	// scripts, which is right for customers; DevTools' evaluation is not
	// subject to it, so axe runs without loosening the page.
	audit := func(name string) []axeViolation {
		t.Helper()
		eval(name+": load axe-core", string(axeJS)+";''")
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](runAxe, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: run axe-core: %v", name, err)
		}
		var violations []axeViolation
		if err := json.Unmarshal([]byte(got), &violations); err != nil {
			t.Fatalf("%s: axe-core's answer %q: %v", name, got, err)
		}
		return violations
	}
	// A page with faults axe-core must find, so a broken audit (axe not
	// loaded, answering nothing) cannot pass for a clean page.
	step("load the control page", chromedp.Navigate(`data:text/html,<!doctype html><html><title>control</title><body><img src="data:,"><p style="color:%23777;background:%23888">low contrast</p></body></html>`))
	found := map[string]bool{}
	for _, v := range audit("the control page") {
		found[v.ID+":"+v.Impact] = true
	}
	if !found["image-alt:critical"] || !found["color-contrast:serious"] {
		t.Fatalf("axe-core missed the control page's image without alt text and low contrast: found %v", found)
	}

	type view struct {
		name, scheme string
		width, high  int64
		mobile       bool
	}
	views := []view{
		{"light", "light", 1280, 800, false},
		{"dark", "dark", 1280, 800, false},
		{"phone-light", "light", 390, 844, true},
		{"phone-dark", "dark", 390, 844, true},
	}
	backgrounds := map[string]string{}
	for _, page := range []struct{ name, url string }{{"overview", sitrep.status + "/"}, {"incident", incURL}} {
		for _, v := range views {
			name := page.name + "-" + v.name
			vopts := []chromedp.EmulateViewportOption{}
			if v.mobile {
				vopts = append(vopts, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2))
			}
			step(name+": load", chromedp.EmulateViewport(v.width, v.high, vopts...), scheme(v.scheme),
				chromedp.Navigate(page.url), chromedp.WaitVisible(chromedp.CSS("body")))

			// What the customer came for is there.
			text := eval(name+": read the page", `document.body.innerText`)
			for _, want := range []string{"Checkout errors", "A faulty deploy of the payment service is being rolled back.", "API"} {
				if !strings.Contains(text, want) {
					t.Errorf("%s: the page does not show %q:\n%.2000s", name, want, text)
				}
			}
			if page.name == "incident" && !strings.Contains(text, "We are investigating errors when paying at checkout.") {
				t.Errorf("%s: the incident's page lacks its first update:\n%.2000s", name, text)
			}
			if dark := eval(name+": the preference", `String(matchMedia('(prefers-color-scheme: dark)').matches)`); dark != fmt.Sprint(v.scheme == "dark") {
				t.Fatalf("%s: the browser reports prefers-color-scheme dark=%s", name, dark)
			}
			backgrounds[page.name+"-"+v.scheme] = eval(name+": the background", background)
			if v.mobile {
				if over := eval(name+": sideways", sideways); over != "" {
					t.Errorf("%s at %dpx: %s", name, v.width, over)
				}
			}
			shot(name)
			if name == "overview-light" {
				if path := os.Getenv("SITREP_SCREENSHOT_STATUS"); path != "" {
					// The README's picture: the browser's viewport, not the
					// whole page, at a readable size.
					step("frame the README's picture", chromedp.EmulateViewport(1100, 760))
					png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
					if err != nil {
						t.Fatalf("screenshot for the README: %v", err)
					}
					if err := os.WriteFile(filepath.Clean(path), png, 0o644); err != nil {
						t.Fatal(err)
					}
					step("back to the view", chromedp.EmulateViewport(v.width, v.high, vopts...))
				}
			}

			for _, v := range audit(name) {
				if v.Impact == "serious" || v.Impact == "critical" {
					t.Errorf("%s: axe-core: %s (%s, %s) at %s", name, v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
				} else {
					t.Logf("%s: axe-core, %s: %s (%s) at %s", name, v.Impact, v.ID, v.Help, strings.Join(v.Targets, ", "))
				}
			}
		}
		// The dark scheme is really another palette, not the light one.
		if l, d := backgrounds[page.name+"-light"], backgrounds[page.name+"-dark"]; l == d {
			t.Errorf("%s: the background is %s in both light and dark", page.name, l)
		}
	}
	t.Logf("screenshots in %s", out)
}
