"""The ceiling for bench/topic_page.py: a minimal Flask app, no database.

It renders the same posts as the real topic page's first page (pre-made dicts with the stored,
already-sanitised HTML, the same tree) through one Jinja template of similar structure:
page header and footer, a recursive ``<ol>`` of ``<article>``s with author, time, stance,
body, agree count and reply/quote links. Everything a database or a framework extension
would supply (URLs, formatted dates, labels) is pre-computed in the dicts, so the figure is
what Flask + Jinja alone cost for this page.

Served by gunicorn as ``_ceiling_app:app``; ``BENCH_CEILING_DATA`` names the JSON file
bench/topic_page.py writes (``{"title": ..., "intro_html": ..., "roots": [node, ...],
"pages": n}``, each node a post dict with a ``children`` list).
"""

from __future__ import annotations

import json
import os

from flask import Flask, render_template
from jinja2 import DictLoader

PAGE = """<!doctype html>
<html lang="da">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ title }} · Borgerdialog Holbæk</title>
  <link rel="stylesheet" href="/static/css/site.css">
</head>
<body>
  <a class="skip-link" href="#main">Gå til indhold</a>
  <header class="site-header"><div class="wrap header-row">
    <a class="brand" href="/">Borgerdialog <span>Holbæk</span></a>
    <nav aria-label="Hovedmenu"><ul class="nav">
      <li><a href="/udvalg">Udvalg</a></li>
      <li><a href="/omraader">Lokalområder</a></li>
      <li><a href="/login?next={{ path }}">Log ind</a></li>
      <li><a href="/registrer">Opret konto</a></li>
    </ul></nav>
  </div></header>
  <main id="main" class="wrap" tabindex="-1">
  <article class="topic" aria-labelledby="topic-title">
    <h1 id="topic-title">{{ title }}</h1>
    <div class="topic-intro">{{ intro_html|safe }}</div>
  </article>
  <section aria-labelledby="debate-h" class="debate">
    <h2 id="debate-h">Debat <span class="count">({{ total }} indlæg)</span></h2>
    <ol class="thread">
    {% for node in roots recursive %}
      <li class="post-item">
        <article class="post{% if node.politician %} post-politician{% endif %}"
          id="p{{ node.id }}" aria-labelledby="p{{ node.id }}-h">
          <header class="post-head">
            <h3 id="p{{ node.id }}-h" class="post-author">
              <a href="{{ node.author_url }}" class="author">{{ node.author_name }}</a>
              {%- if node.politician %} <span class="badge badge-politician">Politiker
              {%- if node.party %} · {{ node.party }}{% endif %}</span>{% endif %}</h3>
            <p class="meta">
              <a href="{{ node.url }}#p{{ node.id }}"><time datetime="{{ node.created_iso }}">
                {{- node.created_label }}</time></a>
              {% if node.stance %} · <span class="stance stance-{{ node.stance }}">
                {{- node.stance_label }}</span>{% endif %}
            </p>
          </header>
          <div class="post-body">{{ node.body_html|safe }}</div>
          <div class="post-actions">
            <span class="supports" data-count="{{ node.support_count }}">
              {{- node.support_count }} {{ "er enig" if node.support_count == 1 else "er enige" }}
            </span>
          </div>
        </article>
        {% if node.children %}<ol class="thread replies">{{ loop(node.children) }}</ol>{% endif %}
      </li>
    {% endfor %}
    </ol>
    {% if pages > 1 %}<nav aria-label="Debattens sider" class="pager"><ol>
      {% for n in range(1, pages + 1) %}<li><a href="{{ path }}?side={{ n }}"
        {%- if n == 1 %} aria-current="page"{% endif %}><span class="visually-hidden">Side </span>
        {{- n }}</a></li>{% endfor %}
      <li><a href="{{ path }}?side=2" rel="next">Næste side</a></li></ol></nav>{% endif %}
  </section>
  </main>
  <footer class="site-footer"><div class="wrap">
    <p>Borgerdialog er Holbæk Kommunes debat.</p>
  </div></footer>
</body>
</html>
"""


def create_ceiling_app(data: dict) -> Flask:
    app = Flask(__name__)
    app.jinja_loader = DictLoader({"topic.html": PAGE})

    def count(nodes: list[dict]) -> int:
        return sum(1 + count(n["children"]) for n in nodes)

    total = count(data["roots"])

    @app.route("/emner/<int:topic_id>")
    def topic(topic_id: int):
        return render_template(
            "topic.html",
            title=data["title"],
            intro_html=data["intro_html"],
            roots=data["roots"],
            total=total,
            pages=data.get("pages", 1),
            path=f"/emner/{topic_id}",
        )

    return app


def _load() -> Flask | None:
    path = os.environ.get("BENCH_CEILING_DATA")
    if not path:
        return None
    with open(path, encoding="utf-8") as fh:
        return create_ceiling_app(json.load(fh))


app = _load()
