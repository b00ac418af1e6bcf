"""The web chat UI, in three parts: `render` (HTML of answers, sources, articles, filters; pure functions),
`uploads` (articles added from the page, checked as `rag index` checks files) and `app` (the Gradio app, its
handlers and `serve`). Its CSS and browser JS are in `static/`."""
