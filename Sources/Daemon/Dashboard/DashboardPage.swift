/// The dashboard's page, style and script, served from the binary: plain HTML, CSS and a
/// little JavaScript, no build step. The page draws everything from the `forwards` events
/// (DOM text only, never HTML from data) and sends changes with the CSRF header.
enum DashboardPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="kfwd-csrf" content="{{csrf}}">
        <title>kfwd</title>
        <link rel="stylesheet" href="/app.css">
        <script src="/app.js" defer></script>
        </head>
        <body>
        <header>
          <h1>kfwd</h1>
          <span id="daemon">connecting…</span>
          <nav>
            <input id="filter" type="search" placeholder="Filter" aria-label="Filter forwards">
            <select id="group-by" aria-label="Group by"><option value="context">By context</option><option value="tag">By tag</option></select>
            <button id="start-selected">Start selected</button>
            <button id="stop-selected">Stop selected</button>
            <button id="start-all">Start all</button>
            <button id="stop-all">Stop all</button>
            <button id="add">Add</button>
            <label class="button">Import<input id="import" type="file" accept=".json,application/json"></label>
            <button id="discover">Discover</button>
            <a class="button" id="export" href="/api/export">Export</a>
            <a class="button" href="/metrics">Metrics</a>
          </nav>
        </header>
        <div id="message" role="alert" hidden></div>
        <main id="contexts"><p id="empty" hidden>No saved forwards: add one here, or with kfwd add or kfwd import.</p></main>
        <section id="logs">
          <h2>Log <span id="log-filter"></span> <button id="log-all" hidden>all forwards</button></h2>
          <pre id="log"></pre>
        </section>
        <dialog id="discovery">
          <h2>Forwards the cluster proposes</h2>
          <pre id="discovery-summary"></pre>
          <menu><button id="discovery-cancel">Cancel</button><button id="discovery-import">Import</button></menu>
        </dialog>
        <dialog id="editor">
          <form id="editor-form" method="dialog">
            <h2 id="editor-title">Add a forward</h2>
            <label>Alias <input name="alias" required pattern="[A-Za-z0-9._-]+"></label>
            <label>Kind <select name="kind">
              <option value="service">Service</option>
              <option value="pod">Pods (label selector)</option>
              <option value="proxy">Address the cluster reaches</option>
            </select></label>
            <label><span id="name-label">Service</span> <input name="name" required></label>
            <label>Namespace <input name="namespace" required value="default"></label>
            <label>Context <input name="context" placeholder="current"></label>
            <label>Local port <input name="local_port" type="number" min="0" max="65535" required></label>
            <label>Remote port <input name="remote_port" type="number" min="1" max="65535" required></label>
            <label>Protocol <select name="protocol"><option>tcp</option><option>udp</option></select></label>
            <label class="inline"><input name="auto_start" type="checkbox"> Start with the daemon</label>
            <div id="editor-errors" role="alert"></div>
            <menu><button value="cancel" formnovalidate>Cancel</button><button id="editor-save" value="save">Save</button></menu>
          </form>
        </dialog>
        </body>
        </html>
        """

    static let style = """
        body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f7f9; }
        header { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 10px 16px; background: #1b1f24; color: #fff; }
        header h1 { font-size: 18px; margin: 0; }
        nav { display: flex; flex-wrap: wrap; gap: 6px; margin-left: auto; }
        button, .button { font: inherit; padding: 4px 10px; border: 1px solid #9aa3ad; border-radius: 4px; background: #fff; color: #1b1f24; cursor: pointer; text-decoration: none; }
        .button input { display: none; }
        main { padding: 8px 16px; }
        section.context h2 { font-size: 15px; margin: 16px 0 6px; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
        .state { font-weight: 600; padding: 1px 6px; border-radius: 3px; }
        .state[data-state="running"] { background: #d8f5dd; color: #14561f; }
        .state[data-state="waiting"], .state[data-state="starting"], .state[data-state="degraded"], .state[data-state="stopping"] { background: #fff3c4; color: #6b5200; }
        .state[data-state="retrying"] { background: #fde0dc; color: #8a1c10; }
        .state[data-state="stopped"] { background: #e8eaed; color: #4a525b; }
        .error { color: #8a1c10; }
        #message { margin: 8px 16px; padding: 8px; background: #fde0dc; color: #8a1c10; white-space: pre-wrap; }
        #logs { padding: 0 16px 16px; }
        #log { background: #1b1f24; color: #e3e6ea; padding: 8px; height: 220px; overflow: auto; white-space: pre-wrap; }
        #log .error { color: #ffb3a7; }
        dialog label { display: block; margin: 6px 0; }
        dialog label.inline { display: flex; gap: 6px; align-items: center; }
        #editor-errors { color: #8a1c10; white-space: pre-wrap; }
        #filter { font: inherit; padding: 3px 6px; }
        #discovery-summary { white-space: pre-wrap; }
        """

    static let script = """
        'use strict';
        const csrf = document.querySelector('meta[name="kfwd-csrf"]').content;
        const selected = new Set();
        let snapshot = { forwards: [] };
        let logAlias = null;
        let editing = null;
        let editingConfig = {};
        let filterText = '';

        function element(tag, attributes, ...children) {
          const node = document.createElement(tag);
          for (const [key, value] of Object.entries(attributes || {})) {
            if (key === 'class') node.className = value; else if (key.startsWith('data-')) node.setAttribute(key, value); else node[key] = value;
          }
          for (const child of children) node.append(child);
          return node;
        }

        function showMessage(lines) {
          const box = document.getElementById('message');
          box.textContent = lines.join('\\n');
          box.hidden = lines.length === 0;
        }

        async function call(method, path, body) {
          const response = await fetch(path, {
            method, credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json', 'X-Kfwd-CSRF': csrf },
            body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
          });
          const text = await response.text();
          let data = text;
          try { data = JSON.parse(text); } catch (error) {}
          if (!response.ok) throw new Error(data && data.errors ? data.errors.join('\\n') : String(text));
          if (data && data.errors && data.errors.length) showMessage(data.errors); else showMessage([]);
          return data;
        }

        function act(method, path, body) {
          return call(method, path, body).catch((error) => showMessage([error.message]));
        }

        function bytes(count) {
          const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
          let value = count, unit = 0;
          while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
          return (unit === 0 ? value : value.toFixed(1)) + ' ' + units[unit];
        }

        function row(forward) {
          const state = forward.state;
          const running = state.status !== 'stopped';
          const check = element('input', { type: 'checkbox', checked: selected.has(forward.alias), className: 'select' });
          check.addEventListener('change', () => { if (check.checked) selected.add(forward.alias); else selected.delete(forward.alias); });
          const toggle = element('button', { className: running ? 'stop' : 'start', textContent: running ? 'Stop' : 'Start' });
          toggle.addEventListener('click', () => act('POST', running ? '/api/stop' : '/api/start', { aliases: [forward.alias], all: false }));
          const edit = element('button', { className: 'edit', textContent: 'Edit' });
          edit.addEventListener('click', () => openEditor(forward));
          const remove = element('button', { className: 'delete', textContent: 'Delete' });
          remove.addEventListener('click', () => {
            if (confirm('Delete ' + forward.alias + '?')) act('DELETE', '/api/forwards/' + encodeURIComponent(forward.alias));
          });
          const logs = element('button', { className: 'logs', textContent: 'Logs' });
          logs.addEventListener('click', () => loadLog(forward.alias));
          const traffic = '\\u2191 ' + bytes(state.bytes_to_cluster || 0) + ' \\u2193 ' + bytes(state.bytes_from_cluster || 0);
          return element('tr', { 'data-alias': forward.alias },
            element('td', {}, check),
            element('td', { className: 'alias' }, forward.alias),
            element('td', { className: 'target' }, forward.target + ' (' + forward.namespace + ')'),
            element('td', { className: 'ports' }, forward.ports + '/' + forward.protocol),
            element('td', { className: 'tags' }, (forward.tags || []).join(', ')),
            element('td', {}, element('span', { className: 'state', 'data-state': state.status, textContent: state.status })),
            element('td', { className: 'pods' }, (state.pods || []).map(pod => {
              const failing = (state.failing_pods || {})[pod];
              return failing ? pod + ' (fails its probe: ' + failing + ')' : pod;
            }).join(', ')),
            element('td', { className: 'listening' }, (state.listening || []).join(', ')),
            element('td', { className: 'connections' }, String(state.connections || 0)),
            element('td', { className: 'bytes' }, traffic),
            element('td', { className: 'last-error error' }, state.reason || state.last_error || ''),
            element('td', { className: 'actions' }, toggle, ' ', edit, ' ', remove, ' ', logs));
        }

        function render(next) {
          snapshot = next;
          document.getElementById('daemon').textContent = 'daemon pid ' + next.daemon_pid;
          const main = document.getElementById('contexts');
          for (const old of main.querySelectorAll('section.context')) old.remove();
          document.getElementById('empty').hidden = next.forwards.length > 0;
          // Grouped by context, or by first tag; the filter matches any text a row shows.
          const byTag = document.getElementById('group-by').value === 'tag';
          const groups = new Map();
          for (const forward of next.forwards.filter(matches)) {
            const tags = forward.tags || [];
            const group = byTag ? (tags.length ? '#' + tags[0] : 'untagged') : forward.context;
            if (!groups.has(group)) groups.set(group, []);
            groups.get(group).push(forward);
          }
          for (const [group, forwards] of groups) {
            const head = element('tr', {}, ...['', 'Alias', 'Target', 'Ports', 'Tags', 'State', 'Pods', 'Listening', 'Connections', 'Traffic', 'Last error', '']
              .map((title) => element('th', { textContent: title })));
            const table = element('table', {}, element('thead', {}, head), element('tbody', {}, ...forwards.map(row)));
            const title = (byTag ? 'Tag: ' : 'Context: ') + group;
            main.append(element('section', { className: 'context', 'data-group': group }, element('h2', { textContent: title }), table));
          }
        }

        function matches(forward) {
          if (!filterText) return true;
          const state = forward.state;
          const words = [forward.alias, forward.target, forward.namespace, forward.context, forward.ports, forward.protocol, state.status, state.reason || '']
            .concat(state.pods || [], forward.tags || []);
          return words.join(' ').toLowerCase().includes(filterText);
        }

        async function discover(save) {
          const dialog = document.getElementById('discovery');
          const found = await call('POST', '/api/discover', { import: save });
          if (save) { dialog.close(); return; }
          const lines = ['Context ' + found.context + ': ' + found.proposals.length + ' proposed'];
          for (const [word, aliases] of [['add', found.added], ['update', found.updated], ['unchanged', found.unchanged]]) {
            if (aliases.length) lines.push(word + ': ' + aliases.join(', '));
          }
          for (const note of found.notes) lines.push('passed over: ' + note);
          const changes = found.added.length + found.updated.length > 0;
          if (!changes) lines.push('Nothing to import.');
          document.getElementById('discovery-summary').textContent = lines.join('\\n');
          document.getElementById('discovery-import').hidden = !changes;
          dialog.showModal();
        }

        function addLog(entry) {
          if (logAlias !== null && entry.alias !== logAlias) return;
          const log = document.getElementById('log');
          const line = element('div', { className: entry.error ? 'error' : '' }, entry.time + ' ' + (entry.alias ? entry.alias + ': ' : '') + entry.message);
          log.append(line);
          while (log.childElementCount > 1000) log.firstElementChild.remove();
          log.scrollTop = log.scrollHeight;
        }

        async function loadLog(alias) {
          logAlias = alias;
          document.getElementById('log-filter').textContent = alias ? '(' + alias + ')' : '';
          document.getElementById('log-all').hidden = alias === null;
          const lines = await call('GET', '/api/logs' + (alias ? '?alias=' + encodeURIComponent(alias) : ''));
          document.getElementById('log').replaceChildren();
          for (const entry of lines) addLog(entry);
        }

        function openEditor(forward) {
          editing = forward ? forward.alias : null;
          // Fields the form does not show (kubeconfig, local_address, transport...) are kept.
          editingConfig = forward ? Object.assign({}, forward.config) : {};
          const form = document.getElementById('editor-form');
          form.reset();
          document.getElementById('editor-errors').textContent = '';
          document.getElementById('editor-title').textContent = forward ? 'Edit ' + forward.alias : 'Add a forward';
          if (forward) {
            const config = forward.config;
            form.alias.value = forward.alias;
            form.kind.value = config.workload_type || 'service';
            form.name.value = (config.workload_type === 'pod' ? config.target : config.workload_type === 'proxy' ? config.remote_address : config.service) || '';
            form.namespace.value = config.namespace || '';
            form.context.value = forward.context === 'current' ? '' : forward.context;
            form.local_port.value = config.local_port || 0;
            form.remote_port.value = config.remote_port || '';
            form.protocol.value = config.protocol || 'tcp';
            form.auto_start.checked = forward.auto_start;
          }
          nameLabel();
          document.getElementById('editor').showModal();
        }

        function nameLabel() {
          const kind = document.getElementById('editor-form').kind.value;
          document.getElementById('name-label').textContent = kind === 'pod' ? 'Label selector' : kind === 'proxy' ? 'Host or IP address' : 'Service';
        }

        async function save(event) {
          event.preventDefault();
          const form = document.getElementById('editor-form');
          const kind = form.kind.value;
          const config = Object.assign({}, editingConfig, {
            alias: form.alias.value, workload_type: kind, namespace: form.namespace.value,
            local_port: Number(form.local_port.value), remote_port: Number(form.remote_port.value), protocol: form.protocol.value,
          });
          for (const field of ['service', 'target', 'remote_address', 'context']) delete config[field];
          if (form.context.value) config.context = form.context.value;
          if (kind === 'pod') config.target = form.name.value; else if (kind === 'proxy') config.remote_address = form.name.value; else config.service = form.name.value;
          try {
            const body = { config, auto_start: form.auto_start.checked };
            if (editing === null) await call('POST', '/api/forwards', body); else await call('PUT', '/api/forwards/' + encodeURIComponent(editing), body);
            document.getElementById('editor').close();
          } catch (error) {
            document.getElementById('editor-errors').textContent = error.message;
          }
        }

        document.getElementById('start-selected').addEventListener('click', () => act('POST', '/api/start', { aliases: [...selected], all: false }));
        document.getElementById('stop-selected').addEventListener('click', () => act('POST', '/api/stop', { aliases: [...selected], all: false }));
        document.getElementById('start-all').addEventListener('click', () => act('POST', '/api/start', { aliases: [], all: true }));
        document.getElementById('stop-all').addEventListener('click', () => act('POST', '/api/stop', { aliases: [], all: true }));
        document.getElementById('add').addEventListener('click', () => openEditor(null));
        document.getElementById('log-all').addEventListener('click', () => loadLog(null));
        document.getElementById('filter').addEventListener('input', (event) => { filterText = event.target.value.toLowerCase(); render(snapshot); });
        document.getElementById('group-by').addEventListener('change', () => render(snapshot));
        document.getElementById('discover').addEventListener('click', () => discover(false).catch((error) => showMessage([error.message])));
        document.getElementById('discovery-import').addEventListener('click', () => discover(true).catch((error) => showMessage([error.message])));
        document.getElementById('discovery-cancel').addEventListener('click', () => document.getElementById('discovery').close());
        document.getElementById('editor-save').addEventListener('click', save);
        document.getElementById('editor-form').kind.addEventListener('change', nameLabel);
        document.getElementById('import').addEventListener('change', async (event) => {
          const file = event.target.files[0];
          if (file) await act('POST', '/api/import', await file.text());
          event.target.value = '';
        });

        const events = new EventSource('/api/events');
        events.addEventListener('forwards', (event) => render(JSON.parse(event.data)));
        events.addEventListener('log', (event) => addLog(JSON.parse(event.data)));
        events.addEventListener('error', () => { document.getElementById('daemon').textContent = 'reconnecting to the daemon…'; });
        loadLog(null);
        """
}
