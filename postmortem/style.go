package postmortem

// stylesheet is embedded in the HTML page so that it reads well on its own,
// opened from a file, printed, or on a phone: readable tables with times
// that do not wrap, and at phone width each row a card of its own rather
// than columns squeezed to a word each. The timeline's time is its first
// column (after the paragraph that says which zones), triage's the last.
const stylesheet = `body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1c1d; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; line-height: 1.25; }
h2 { font-size: 1.25rem; margin-top: 2rem; padding-bottom: .25rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
tbody tr:nth-child(even) { background: #fafafa; }
p + table td:first-child, h2 + table td:last-child { white-space: nowrap; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; background: #f4f4f4; padding: 0 .2em; border-radius: 3px; }
blockquote { margin: 1rem 0; padding: .5rem 1rem; border-left: 4px solid #e8a33d; background: #fff8ec; }
ul.contains-task-list { padding-left: 1.2rem; }
@media (max-width: 40rem) {
  body { margin: 1rem auto; font-size: 15px; }
  thead { display: none; }
  table, tbody, tr, td { display: block; width: auto; }
  tr { border: 1px solid #ccc; border-radius: 4px; margin-bottom: .5rem; padding: .3rem .5rem; }
  td { border: none; padding: .1rem 0; }
  td:empty { display: none; }
  p + table td:first-child, h2 + table td:last-child { font-size: .85em; color: #555; }
  p + table td:last-child::before { content: "by "; color: #555; }
}
@media print {
  body { max-width: none; margin: 0; color: #000; font-size: 11pt; }
  a { color: inherit; }
  table { font-size: 9pt; }
  tr, li { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
}
`
