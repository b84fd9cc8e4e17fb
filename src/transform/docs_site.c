/* `ingot docs generate` (docs.h): parse, compile, read the catalog, then
 * write one HTML page that carries its data as embedded JSON and draws
 * everything (lists, node pages, the lineage graph as SVG) with a few
 * hundred lines of vanilla JS. The page never touches the network: it is
 * meant to be opened from disk, mailed, or served as a static file. */
#include "transform/docs.h"

#include "transform/artifacts.h"
#include "transform/tf_int.h"

#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/version.h"

#include <stdlib.h>
#include <string.h>

void ig_docs_result_free(ig_docs_result *r)
{
    if (!r) return;
    free(r->index_path);
    free(r->catalog_path);
    memset(r, 0, sizeof *r);
}

/* -------------------------------------------------------------- data */

static const char *kind_word(const tf_node *n)
{
    switch (n->kind) {
    case TF_MODEL: return "model";
    case TF_SOURCE: return "source";
    case TF_SEED: return "seed";
    case TF_SNAPSHOT: return "snapshot";
    case TF_TEST: return "test";
    case TF_ANALYSIS: return "analysis";
    case TF_OPERATION: return "operation";
    }
    return "model";
}

static json_t *s_or_empty(const json_t *v) { return json_string(json_is_string(v) ? json_string_value(v) : ""); }

/* The page's own compact model of a node: what it shows, nothing more. */
static json_t *page_node(tf_project *p, const tf_node *n, const json_t *catalog)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_string(n->unique_id));
    json_object_set_new(j, "name", n->kind == TF_SOURCE && n->source_name
                                       ? json_sprintf("%s.%s", n->source_name, n->name)
                                       : json_string(n->name));
    json_object_set_new(j, "type", json_string(kind_word(n)));
    json_object_set_new(j, "pkg", json_string(n->pkg ? n->pkg->name : ""));
    json_object_set_new(j, "path", json_string(n->original_file_path ? n->original_file_path : ""));
    json_object_set_new(j, "desc", s_or_empty(n->props ? json_object_get(n->props, "description") : NULL));
    json_object_set_new(j, "mat", json_string(n->kind == TF_SOURCE ? "source"
                                              : n->materialized ? n->materialized
                                              : n->kind == TF_TEST ? "test" : "view"));
    json_t *cfg = ig__tf_node_config_json(n);
    json_object_set(j, "tags", json_object_get(cfg, "tags"));
    json_decref(cfg);
    if (n->kind != TF_TEST && !(n->materialized && !strcmp(n->materialized, "ephemeral"))) {
        ig_buf b = IG_BUF_INIT;
        ig__tf_node_relation(p, n, &b);
        json_object_set_new(j, "rel", json_string(ig_buf_cstr(&b)));
        ig_buf_free(&b);
    }
    /* columns: the properties' (with descriptions) in their order, then the
     * warehouse's others; types from the catalog */
    const json_t *cat = json_object_get(json_object_get(catalog, n->kind == TF_SOURCE ? "sources" : "nodes"),
                                        n->unique_id);
    const json_t *ccols = json_object_get(cat, "columns");
    json_t *cols = json_array();
    json_t *seen = json_object();
    size_t i;
    const json_t *c;
    json_array_foreach(n->props ? json_object_get(n->props, "columns") : NULL, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        if (!name) continue;
        const json_t *cc = json_object_get(ccols, name);
        const json_t *dt = json_object_get(c, "data_type");
        json_array_append_new(cols, json_pack("{s:s,s:o,s:o,s:[]}", "name", name, "type",
                                              cc ? s_or_empty(json_object_get(cc, "type"))
                                                 : s_or_empty(dt),
                                              "desc", s_or_empty(json_object_get(c, "description")),
                                              "tests"));
        json_object_set_new(seen, name, json_true());
    }
    const char *k;
    const json_t *cc;
    json_object_foreach((json_t *)ccols, k, cc) {
        if (json_object_get(seen, k)) continue;
        /* case-insensitive match with a documented column */
        bool dup = false;
        size_t x;
        const json_t *d;
        json_array_foreach(cols, x, d) dup |= !strcasecmp(json_string_value(json_object_get(d, "name")), k);
        if (dup) continue;
        json_array_append_new(cols, json_pack("{s:s,s:o,s:s,s:[]}", "name", k, "type",
                                              s_or_empty(json_object_get(cc, "type")), "desc", "",
                                              "tests"));
    }
    json_decref(seen);
    json_object_set_new(j, "cols", cols);
    const json_t *rows = json_object_get(json_object_get(json_object_get(cat, "stats"), "row_count"), "value");
    if (json_is_integer(rows)) json_object_set(j, "rows", (json_t *)rows);
    if (n->compiled_ok && n->compiled) json_object_set_new(j, "sql", json_stringn(n->compiled, n->compiled_len));
    if (n->raw) json_object_set_new(j, "raw", json_stringn(n->raw, n->raw_len));
    json_t *pa = json_array(), *ch = json_array();
    for (size_t d = 0; d < n->ndeps; d++)
        if (p->nodes[n->deps[d]]->enabled) json_array_append_new(pa, json_string(p->nodes[n->deps[d]]->unique_id));
    for (size_t d = 0; d < n->nkids; d++)
        if (p->nodes[n->kids[d]]->enabled) json_array_append_new(ch, json_string(p->nodes[n->kids[d]]->unique_id));
    json_object_set_new(j, "parents", pa);
    json_object_set_new(j, "children", ch);
    if (n->kind == TF_TEST) {
        const tf_node *a = n->attached >= 0 && (size_t)n->attached < p->nnodes ? p->nodes[n->attached] : NULL;
        if (a) json_object_set_new(j, "of", json_string(a->unique_id));
        if (n->column_name) json_object_set_new(j, "column", json_string(n->column_name));
        const char *tn = n->test_meta ? json_string_value(json_object_get(n->test_meta, "name")) : NULL;
        json_object_set_new(j, "test", json_string(tn ? tn : "singular"));
    }
    return j;
}

/* Attach each generic test's name to its node's column. */
static void attach_tests(json_t *nodes, json_t *byid)
{
    size_t i;
    json_t *t;
    json_array_foreach(nodes, i, t) {
        const char *of = json_string_value(json_object_get(t, "of"));
        const char *col = json_string_value(json_object_get(t, "column"));
        json_t *target = of ? json_object_get(byid, of) : NULL;
        if (!target || !col) continue;
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(target, "cols"), k, c) {
            if (strcasecmp(json_string_value(json_object_get(c, "name")), col)) continue;
            json_array_append_new(json_object_get(c, "tests"),
                                  json_pack("{s:s,s:O}", "id", json_string_value(json_object_get(t, "id")),
                                            "name", json_object_get(t, "test")));
        }
    }
}

/* ------------------------------------------------------------- page */

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"generator\" content=\"ingot docs generate\">\n"
    "<title>ingot docs</title>\n<style>\n"
    "body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2330;display:flex;height:100vh}\n"
    "#side{width:290px;min-width:290px;border-right:1px solid #dde2ea;overflow:auto;background:#f6f8fb;padding:10px}\n"
    "#main{flex:1;overflow:auto;padding:18px 26px}\n"
    "#side h1{font-size:16px;margin:4px 0 10px}#side h1 a{color:inherit;text-decoration:none}\n"
    "#q{width:100%;box-sizing:border-box;padding:6px 8px;border:1px solid #c8d0dc;border-radius:4px;margin-bottom:8px}\n"
    "#side h2{font-size:12px;text-transform:uppercase;color:#657086;margin:12px 0 4px}\n"
    "#side a.n{display:block;padding:2px 6px;border-radius:3px;color:#1d2330;text-decoration:none;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}\n"
    "#side a.n:hover,#side a.n.cur{background:#dfe7f5}\n"
    ".badge{display:inline-block;font-size:11px;padding:1px 6px;border-radius:9px;background:#e4e9f2;color:#3c475c;margin-right:4px}\n"
    ".t-model{background:#dbe8ff}.t-source{background:#dcf5e3}.t-seed{background:#fff1cc}.t-snapshot{background:#f3e0ff}.t-test{background:#ffe1e1}\n"
    "table{border-collapse:collapse;margin:8px 0 16px;min-width:50%}td,th{border-bottom:1px solid #e6e9ef;padding:4px 10px;text-align:left;vertical-align:top}\n"
    "th{font-size:12px;color:#657086}pre{background:#f6f8fb;border:1px solid #e1e6ee;padding:10px;overflow:auto;font-size:12.5px}\n"
    ".desc{white-space:pre-wrap}.muted{color:#7a8499}h3{margin:20px 0 6px;font-size:15px}\n"
    "svg .gn rect{fill:#fff;stroke:#8a97ad;rx:5}svg .gn{cursor:pointer}svg .gn:hover rect{stroke:#2f6fdb;stroke-width:2}\n"
    "svg .gn.focus rect{fill:#2f6fdb;stroke:#2f6fdb}svg .gn.focus text{fill:#fff}svg text{font-size:12px;fill:#1d2330}\n"
    "svg path.e{fill:none;stroke:#a9b4c6;stroke-width:1.3}svg .k-source rect{fill:#e9f8ee}svg .k-seed rect{fill:#fff6db}svg .k-snapshot rect{fill:#f7ebff}\n"
    "#graph{border:1px solid #e1e6ee;overflow:auto;max-height:520px;background:#fcfdff}\n"
    "</style></head><body>\n"
    "<nav id=\"side\"><h1><a href=\"#\">ingot docs</a></h1><input id=\"q\" placeholder=\"Search nodes\" autocomplete=\"off\"><div id=\"list\"></div></nav>\n"
    "<main id=\"main\"><noscript>This page draws itself with JavaScript; the data is in the script tag "
    "with id ingot-data and in catalog.json / manifest.json beside it.</noscript></main>\n"
    "<script id=\"ingot-data\" type=\"application/json\">";

static const char page_tail[] =
    "</script>\n<script>\n"
    "'use strict';\n"
    "const D=JSON.parse(document.getElementById('ingot-data').textContent);\n"
    "const byId={};D.nodes.forEach(n=>byId[n.id]=n);\n"
    "const ORDER=['model','source','seed','snapshot','test','analysis'];\n"
    "const SVGNS='http://www.w3.org/2000/svg';\n"
    "function el(tag,attrs,...kids){const e=document.createElement(tag);for(const k in attrs||{}){if(k==='text')e.textContent=attrs[k];else e.setAttribute(k,attrs[k]);}\n"
    "  kids.forEach(c=>{if(c!=null)e.appendChild(typeof c==='string'?document.createTextNode(c):c);});return e;}\n"
    "function sv(tag,attrs){const e=document.createElementNS(SVGNS,tag);for(const k in attrs)e.setAttribute(k,attrs[k]);return e;}\n"
    "function link(id){const n=byId[id];return el('a',{href:'#'+encodeURIComponent(id),text:n?n.name:id});}\n"
    "function badge(t){return el('span',{class:'badge t-'+t,text:t});}\n"
    "function renderList(){const q=document.getElementById('q').value.toLowerCase();const list=document.getElementById('list');list.textContent='';\n"
    "  ORDER.forEach(t=>{const ns=D.nodes.filter(n=>n.type===t&&(!q||n.name.toLowerCase().includes(q)||n.id.toLowerCase().includes(q)))\n"
    "    .sort((a,b)=>a.name.localeCompare(b.name));if(!ns.length)return;\n"
    "    list.appendChild(el('h2',{text:t+'s ('+ns.length+')'}));\n"
    /* big projects: 500 per kind until the user types (the DOM stays small) */
    "    ns.slice(0,q?5000:500).forEach(n=>{const a=el('a',{class:'n',href:'#'+encodeURIComponent(n.id),title:n.id,'data-id':n.id,text:n.name});list.appendChild(a);});\n"
    "    if(ns.length>(q?5000:500))list.appendChild(el('div',{class:'muted',text:(ns.length-(q?5000:500))+' more: type to search'}));});\n"
    "  markCurrent();}\n"
    "function markCurrent(){const cur=decodeURIComponent(location.hash.slice(1));document.querySelectorAll('#side a.n').forEach(a=>a.classList.toggle('cur',a.getAttribute('data-id')===cur));}\n"
    /* lineage: the closure of the focus (up and down), tests left out,
     * layered by longest path, drawn left to right */
    "function lineage(focus,depthCap){const keep=new Set();const wantTests=focus&&byId[focus]&&byId[focus].type==='test';\n"
    "  const ok=id=>byId[id]&&(byId[id].type!=='test'||wantTests&&id===focus);\n"
    "  if(!focus){D.nodes.forEach(n=>{if(n.type!=='test')keep.add(n.id);});}\n"
    "  else{keep.add(focus);for(const dir of ['parents','children']){let fr=[focus],d=0;while(fr.length&&d<depthCap){const nx=[];\n"
    "    fr.forEach(id=>(byId[id][dir]||[]).forEach(o=>{if(ok(o)&&!keep.has(o)){keep.add(o);nx.push(o);}}));fr=nx;d++;}}}\n"
    "  const ids=[...keep].slice(0,600);const S=new Set(ids);const layer={};\n"
    "  const memo=id=>{if(layer[id]!==undefined)return layer[id];layer[id]=0;let l=0;(byId[id].parents||[]).forEach(p=>{if(S.has(p))l=Math.max(l,memo(p)+1);});layer[id]=l;return l;};\n"
    "  ids.forEach(memo);const cols={};ids.forEach(id=>{(cols[layer[id]]=cols[layer[id]]||[]).push(id);});\n"
    "  const W=190,H=30,GX=70,GY=14,pos={};let maxY=0;const nl=Object.keys(cols).length;\n"
    "  Object.keys(cols).forEach(l=>{cols[l].sort((a,b)=>byId[a].name.localeCompare(byId[b].name)).forEach((id,i)=>{pos[id]={x:10+l*(W+GX),y:10+i*(H+GY)};maxY=Math.max(maxY,pos[id].y);});});\n"
    "  const svg=sv('svg',{width:20+nl*(W+GX),height:maxY+H+20,id:'lineage'});\n"
    "  ids.forEach(id=>(byId[id].parents||[]).forEach(p=>{if(!S.has(p))return;const a=pos[p],b=pos[id];\n"
    "    svg.appendChild(sv('path',{class:'e',d:`M${a.x+W},${a.y+H/2} C${a.x+W+GX/2},${a.y+H/2} ${b.x-GX/2},${b.y+H/2} ${b.x},${b.y+H/2}`}));}));\n"
    "  ids.forEach(id=>{const n=byId[id],g=sv('g',{class:'gn k-'+n.type+(id===focus?' focus':''),'data-id':id,transform:`translate(${pos[id].x},${pos[id].y})`});\n"
    "    g.appendChild(sv('rect',{width:W,height:H,rx:5}));const t=sv('text',{x:10,y:19});t.textContent=n.name.length>26?n.name.slice(0,25)+'\\u2026':n.name;g.appendChild(t);\n"
    "    const tt=sv('title',{});tt.textContent=n.id;g.appendChild(tt);g.addEventListener('click',()=>{location.hash=encodeURIComponent(id);});svg.appendChild(g);});\n"
    "  return el('div',{id:'graph'},svg);}\n"
    "function overview(m){const counts={};D.nodes.forEach(n=>counts[n.type]=(counts[n.type]||0)+1);\n"
    "  m.appendChild(el('h2',{text:D.project+' \\u2014 documentation'}));\n"
    "  m.appendChild(el('p',{class:'muted',text:'Generated '+D.generated_at+' by ingot '+D.ingot_version+' (dbt '+D.dbt_version+' compatible). '+\n"
    "    ORDER.filter(t=>counts[t]).map(t=>counts[t]+' '+t+(counts[t]===1?'':'s')).join(', ')+'.'}));\n"
    "  m.appendChild(el('h3',{text:'Lineage'}));m.appendChild(lineage(null,0));\n"
    "  const tb=el('table',{},el('tr',{},el('th',{text:'model'}),el('th',{text:'materialized'}),el('th',{text:'description'})));\n"
    "  D.nodes.filter(n=>n.type==='model').sort((a,b)=>a.name.localeCompare(b.name)).forEach(n=>tb.appendChild(el('tr',{},el('td',{},link(n.id)),el('td',{text:n.mat}),el('td',{class:'desc',text:n.desc}))));\n"
    "  m.appendChild(el('h3',{text:'Models'}));m.appendChild(tb);}\n"
    "function nodePage(m,n){m.appendChild(el('h2',{},badge(n.type),n.name));\n"
    "  const facts=el('p',{class:'muted'});facts.appendChild(document.createTextNode(n.id+(n.rel?' \\u00b7 '+n.rel:'')+' \\u00b7 '+n.mat+(n.rows!=null?' \\u00b7 '+n.rows+' rows':'')+(n.path?' \\u00b7 '+n.path:'')));m.appendChild(facts);\n"
    "  if(n.tags&&n.tags.length)m.appendChild(el('p',{},...n.tags.map(t=>el('span',{class:'badge',text:'#'+t}))));\n"
    "  m.appendChild(el('h3',{text:'Description'}));m.appendChild(el('div',{class:'desc'+(n.desc?'':' muted'),text:n.desc||'No description.'}));\n"
    "  if(n.of)m.appendChild(el('p',{},'Tests ',link(n.of),n.column?' (column '+n.column+')':''));\n"
    "  if(n.cols&&n.cols.length){const tb=el('table',{id:'columns'},el('tr',{},el('th',{text:'column'}),el('th',{text:'type'}),el('th',{text:'description'}),el('th',{text:'tests'})));\n"
    "    n.cols.forEach(c=>{const tests=el('td');c.tests.forEach((t,i)=>{if(i)tests.appendChild(document.createTextNode(', '));tests.appendChild(el('a',{href:'#'+encodeURIComponent(t.id),text:t.name}));});\n"
    "      tb.appendChild(el('tr',{},el('td',{text:c.name}),el('td',{text:c.type}),el('td',{class:'desc',text:c.desc}),tests));});\n"
    "    m.appendChild(el('h3',{text:'Columns'}));m.appendChild(tb);}\n"
    "  const tests=D.nodes.filter(t=>t.type==='test'&&t.of===n.id);if(tests.length){const ul=el('ul');tests.forEach(t=>ul.appendChild(el('li',{},link(t.id))));m.appendChild(el('h3',{text:'Tests'}));m.appendChild(ul);}\n"
    "  for(const [dir,label] of [['parents','Depends on'],['children','Referenced by']]){const ids=(n[dir]||[]).filter(i=>byId[i]&&byId[i].type!=='test');\n"
    "    if(!ids.length)continue;const ul=el('ul');ids.forEach(i=>ul.appendChild(el('li',{},badge(byId[i].type),link(i))));m.appendChild(el('h3',{text:label}));m.appendChild(ul);}\n"
    "  m.appendChild(el('h3',{text:'Lineage'}));m.appendChild(lineage(n.id,99));\n"
    "  if(n.sql){m.appendChild(el('h3',{text:'Compiled SQL'}));m.appendChild(el('pre',{id:'compiled',text:n.sql}));}\n"
    "  if(n.raw){m.appendChild(el('h3',{text:'Source'}));m.appendChild(el('pre',{id:'raw',text:n.raw}));}}\n"
    "function route(){const m=document.getElementById('main');m.textContent='';const id=decodeURIComponent(location.hash.slice(1));\n"
    "  if(id&&byId[id])nodePage(m,byId[id]);else overview(m);markCurrent();m.scrollTop=0;}\n"
    "document.getElementById('q').addEventListener('input',renderList);window.addEventListener('hashchange',route);\n"
    "renderList();route();\n"
    "</script></body></html>\n";

static ig_rc write_page(tf_project *p, const json_t *catalog, ig_docs_result *res, ig_error *err)
{
    json_t *nodes = json_array(), *byid = json_object();
    for (size_t i = 0; i < p->nnodes; i++) {
        const tf_node *n = p->nodes[i];
        if (!n->enabled || !n->unique_id) continue;
        if (n->kind == TF_OPERATION) continue;
        json_t *j = page_node(p, n, catalog);
        json_array_append_new(nodes, j);
        json_object_set(byid, n->unique_id, j);
        res->nodes++;
        if (json_object_get(json_object_get(catalog, n->kind == TF_SOURCE ? "sources" : "nodes"), n->unique_id))
            res->relations++;
    }
    attach_tests(nodes, byid);
    json_decref(byid);
    char now[48];
    ig_format_iso(ig_wall_us(), now, sizeof now);
    json_t *data = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "project", p->root ? p->root->name : "",
                             "generated_at", now, "invocation_id", p->invocation_id, "ingot_version",
                             IG_VERSION, "dbt_version", TF_DBT_VERSION, "nodes", nodes);
    /* JSON_ESCAPE_SLASH: "</script>" inside a description cannot end the tag */
    char *text = json_dumps(data, JSON_COMPACT | JSON_ESCAPE_SLASH);
    json_decref(data);
    ig_buf b = IG_BUF_INIT;
    ig_buf_puts(&b, page_head);
    ig_buf_puts(&b, text ? text : "{\"nodes\":[]}");
    ig_buf_puts(&b, page_tail);
    free(text);
    res->index_path = ig_asprintf("%s/index.html", p->target_path);
    ig_rc rc = ig_fs_write_atomic(res->index_path, b.data, b.len, 0644, err);
    if (rc) ig_err_prefix(err, "writing %s", res->index_path);
    ig_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------- entry */

/* Open the warehouse the way run.c's prepare does (the profile's file, or
 * the project's with its settings). */
static ig_rc open_wh(tf_project *p, const ig_project *proj, ig_wh **opened, ig_error *err)
{
    ig_wh_options wo = ig__tf_wh_options(p, proj);
    wo.read_only = wo.path[0] != ':' && ig_fs_exists(wo.path);
    return ig_wh_open(&wo, opened, err);
}

ig_rc ig_transform_docs_generate(const ig_project *project, ig_wh *wh,
                                 const ig_transform_options *opts, bool no_compile,
                                 ig_docs_result *res, ig_error *err)
{
    static const ig_transform_options none = {0};
    if (!opts) opts = &none;
    memset(res, 0, sizeof *res);
    tf_project *p;
    ig_rc rc = ig__tf_load(project, opts, &p, err);
    if (rc) return rc;
    ig_wh *opened = NULL;
    if (!wh && (rc = open_wh(p, project, &opened, err))) goto out;
    if (!wh) wh = opened;
    p->wh = wh;
    p->dialect = ig_wh_dialect_of(wh);
    p->execute = true;
    if (!p->target.database) {
        char *db = NULL;
        if (!p->dialect->current_database(wh, &db, err) && db) {
            p->target.database = ig_arena_strdup(p->arena, db);
            json_object_set_new(p->target.json, "database", json_string(db));
        }
        free(db);
    }
    if ((rc = ig__tf_relcache_load(p, err)) || (rc = ig__tf_parse(p, err))) goto out;
    if (opts->out) fprintf(opts->out, "Running with ingot=%s (dbt=%s compatible)\n", IG_VERSION, TF_DBT_VERSION);
    if (!no_compile) {
        /* compile in DAG order (ephemeral parents first) on this thread */
        int *order = ig_malloc((p->nnodes + 1) * sizeof *order);
        size_t cnt = 0;
        if ((rc = ig__tf_toposort(p, order, &cnt, err))) {
            free(order);
            goto out;
        }
        tf_thread *t = ig__tf_thread_new(p, wh);
        for (size_t i = 0; i < cnt; i++) {
            tf_node *n = p->nodes[order[i]];
            if (!n->enabled || n->kind == TF_SOURCE || n->kind == TF_SEED || n->kind == TF_OPERATION) continue;
            ig_error e;
            ig_error_clear(&e);
            ig__tf_thread_node(t, n);
            if (ig__tf_compile_node(t, n, &e)) {
                res->compile_errors++;
                ig_warn("transform.docs", "%s did not compile, its raw SQL is shown: %s", n->unique_id,
                        e.message);
            } else
                ig__tf_write_target(p, "compiled", n, n->compiled, n->compiled_len, &e);
            ig__tf_thread_node(t, NULL);
        }
        ig__tf_thread_free(t);
        free(order);
    }
    json_t *catalog = NULL;
    if ((rc = ig__tf_write_catalog(p, &catalog, err))) goto out;
    res->catalog_path = ig_asprintf("%s/catalog.json", p->target_path);
    rc = ig__tf_write_manifest(p, err);
    if (!rc) rc = write_page(p, catalog, res, err);
    json_decref(catalog);
out:
    ig__tf_free(p);
    if (opened) ig_wh_close(opened);
    if (rc) ig_docs_result_free(res);
    return rc;
}
