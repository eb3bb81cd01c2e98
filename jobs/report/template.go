package report

// pageTemplate is the report's HTML. Everything is inline (style sheet,
// SVG charts): the file opens offline and names no URL. html/template
// escapes every string that comes from the warehouse.
const pageTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="parcours report">
<title>Parcours report — {{.Date}}</title>
<style>{{css}}</style>
</head>
<body>
<header class="top">
  <div>
    <p class="kicker">Parcours · customer data warehouse</p>
    <h1>Report for {{.Date}}</h1>
  </div>
  <dl class="meta">
    <dt>Logical date</dt><dd><time datetime="{{.Date}}">{{.Date}}</time></dd>
    <dt>Generated</dt><dd><time datetime="{{.Generated}}">{{.Generated}}</time></dd>
    <dt>Amounts in</dt><dd data-currency="{{.Currency}}">{{if .Currency}}{{.Currency}}{{else}}the extracts' own currency (unknown){{end}}</dd>
  </dl>
  {{- if .CurrencyNote}}
  <p class="currency-note">{{.CurrencyNote}}</p>
  {{- end}}
  <p class="scope">Built only from anonymous, k-anonymous cold aggregates and from counts of the
  operations tables: no customer key, identifier or raw input row is in this file, so it can be shared.</p>
</header>
{{- if .Stale}}
<p class="stale-summary" data-stale-sections="{{len .Stale}}"><strong>Not everything is up to date for {{.Date}}:</strong>
{{range $i, $t := .Stale}}{{if $i}}, {{end}}{{$t}}{{end}} (each says why).</p>
{{- end}}
<nav class="toc" aria-label="Contents">
  <h2>Contents</h2>
  <ol>{{range .Sections}}
    <li><a href="#{{.ID}}">{{.Title}}</a></li>{{end}}
  </ol>
</nav>
<main>
{{range $i, $s := .Sections}}
<section id="{{$s.ID}}" data-section="{{$s.ID}}">
  <h2><span class="num">{{inc $i}}</span> {{$s.Title}}</h2>
  <p class="window"><strong>Data window:</strong> {{$s.Window}}</p>
  {{- if $s.Stale}}
  <p class="stale" data-stale="{{$s.ID}}">{{$s.Stale}}</p>
  {{- end}}
  <div class="parts">
  {{- range $s.Parts}}
  <div class="part{{if .Wide}} wide{{end}}">
    {{- if .Heading}}<h3>{{.Heading}}</h3>{{end}}
    {{- if .Empty}}<p class="empty">{{.Empty}}</p>{{end}}
    {{- if .Text}}<p class="note">{{.Text}}</p>{{end}}
    {{- if .Tiles}}
    <div class="tiles">{{range .Tiles}}
      <div class="tile {{.Tone}}" data-kpi="{{.KPI}}" data-value="{{.Value}}" data-prev="{{.Prev}}" data-change="{{.Change}}">
        <div class="label">{{.Label}}</div>
        <div class="value">{{.Text}}</div>
        <div class="change">{{.ChangeText}}</div>
        {{- if .Note}}<div class="tnote">{{.Note}}</div>{{end}}
      </div>{{end}}
    </div>
    {{- end}}
    {{- with .Figure}}
    <figure data-chart="{{.Name}}">
      {{.Chart.SVG}}
      {{- if .Chart.Legend}}
      <ul class="legend">{{range .Chart.Legend}}<li><span class="sw {{.Class}}"></span>{{.Name}}</li>{{end}}</ul>
      {{- end}}
      <figcaption>{{.Caption}}</figcaption>
    </figure>
    {{- end}}
    {{- with .Table}}
    <div class="scroll"><table>
      {{- if .Caption}}<caption>{{.Caption}}</caption>{{end}}
      <thead><tr>{{range .Head}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
      <tbody>{{range .Rows}}
        <tr>{{range .}}<td class="{{if .Num}}n{{end}}{{if .Heat}} {{.Heat}}{{end}}{{if .Tone}} {{.Tone}}{{end}}"{{if .Title}} title="{{.Title}}"{{end}}>{{.Text}}</td>{{end}}</tr>{{end}}
      </tbody>
    </table></div>
    {{- end}}
  </div>
  {{- end}}
  </div>
</section>
{{end}}
</main>
<footer>Parcours report for {{.Date}} · generated {{.Generated}} · rates are fractions of the published (k-anonymous) cells, so they may differ slightly from figures computed on raw data.</footer>
</body>
</html>
`
