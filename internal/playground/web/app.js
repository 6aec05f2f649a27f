// app.js is the playground page: it polls /api/state, renders the sidebar,
// the channel (or Sitrep's App Home) and the open modal, and turns clicks
// and typing into POSTs to the playground's JSON API. Rendering of text and
// blocks is in blockkit.js.
'use strict';

(() => {
  const { h, plain, mrkdwn, renderBlocks, emojify } = BlockKit;
  const $ = (sel) => document.querySelector(sel);
  const POLL_MS = 500;
  const SYSTEM_SUBTYPES = new Set(['channel_topic', 'channel_purpose', 'channel_name', 'channel_join',
    'channel_leave', 'channel_archive', 'channel_unarchive', 'group_topic', 'group_join']);

  const S = {
    user: localStorage.getItem('sitrep.user') || '',
    channel: localStorage.getItem('sitrep.channel') || '',
    state: null,
    lastKey: '', // user|channel|version last rendered
    usersKey: '', channelsKey: '', headerKey: '', footerKey: '', homeKey: '', modalKey: '',
    messages: new Map(), // message key → {json, el}
    messagesScope: '', // user|channel|users the cached message DOM was built for
    stick: true, // scroll to the bottom on the next render
    atBottom: true, // the reader is at the bottom of the channel
    // since is when this page first looked (the server's time): Slack's
    // client forgets ephemeral messages when it reloads, and so does this
    // page, by asking only for those since then. Never stored.
    since: '',
  };

  // ---- API ----

  async function post(path, body, { quiet = false } = {}) {
    let res;
    try {
      const r = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      res = await r.json().catch(() => ({ ok: false, error: `HTTP ${r.status}` }));
    } catch (err) {
      res = { ok: false, error: 'cannot reach the playground server: ' + err.message };
    }
    if (!res.ok && res.error && !quiet) showBanner(res.error);
    poll();
    return res;
  }

  let inflight = false;
  let pollAgain = false;
  let timer = 0;

  // poll fetches the state now (or right after the request in flight) and
  // schedules the next one.
  async function poll() {
    clearTimeout(timer);
    if (inflight) { pollAgain = true; return; }
    inflight = true;
    const { user, channel } = S;
    try {
      const q = new URLSearchParams();
      if (user) q.set('user', user);
      if (channel) q.set('channel', channel);
      q.set('since', S.since || 'now');
      const r = await fetch('/api/state?' + q, { cache: 'no-store' });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const st = await r.json();
      clearBanner(true);
      if (user === S.user && channel === S.channel) apply(st); // else stale: the user switched meanwhile
    } catch (err) {
      showBanner(`Cannot reach the playground server (${err.message}); retrying…`, true);
    } finally {
      inflight = false;
      if (pollAgain) { pollAgain = false; poll(); } else timer = setTimeout(poll, POLL_MS);
    }
  }

  function apply(st) {
    S.state = st;
    if (!S.since && st.since) S.since = st.since;
    if (st.me && st.me !== S.user) { S.user = st.me; localStorage.setItem('sitrep.user', S.user); }
    const chans = st.channels || [];
    if (S.channel === 'alerts' && !st.alerts) S.channel = ''; // the panel is gone: alerts are off
    if (S.channel !== 'home' && S.channel !== 'alerts' && !st.channel) {
      // No channel chosen yet, or it is gone: #general, else the first we are in.
      const pick = chans.find((c) => c.name === 'general' && c.member) || chans.find((c) => c.member) || chans[0];
      if (pick && pick.id !== S.channel) { select(pick.id); return; }
    }
    const key = [S.user, S.channel, st.version].join('|');
    if (key !== S.lastKey) {
      S.lastKey = key;
      renderSidebar(st);
      if (S.channel === 'home') renderHome(st);
      else if (S.channel === 'alerts') renderAlerts(st);
      else renderChannel(st);
      renderModal(st.modal);
    }
    document.body.dataset.version = st.version;
  }

  function select(channel) {
    closeNav();
    if (channel === S.channel && S.lastKey) return;
    S.channel = channel;
    S.stick = true;
    localStorage.setItem('sitrep.channel', channel);
    S.lastKey = '';
    if (channel === 'home') post('/api/home', { user: S.user }); else poll();
  }

  // ---- banner ----

  function showBanner(msg, connection = false) {
    clearBanner();
    const b = h('div', { class: 'banner', role: 'alert', 'data-testid': 'banner', 'data-connection': connection || null },
      h('span', { class: 'banner-text' }, msg),
      h('button', { type: 'button', class: 'banner-close', title: 'Dismiss', 'aria-label': 'Dismiss', onclick: () => b.remove() }, '×'));
    $('#banners').append(b);
  }

  // clearBanner removes the banner; with onlyConnection, only a
  // "cannot reach the server" one.
  function clearBanner(onlyConnection = false) {
    for (const b of document.querySelectorAll('[data-testid=banner]')) {
      if (!onlyConnection || b.dataset.connection != null) b.remove();
    }
  }

  // ---- shared rendering helpers ----

  const userById = (id) => (S.state.users || []).find((u) => u.id === id);
  const channelById = (id) => (S.state.channels || []).find((c) => c.id === id);

  // blockCtx is what blockkit.js needs to render for this page; where
  // tells actions where they happened ({channel, message_ts} or {view_id}).
  function blockCtx(where) {
    return {
      me: S.user,
      users: S.state.users || [],
      channels: S.state.channels || [],
      userName: (id) => { const u = userById(id); return u && (u.name || u.real_name); },
      channelName: (id) => { const c = channelById(id) || (S.state.channel && S.state.channel.id === id && S.state.channel); return c && c.name; },
      openChannel: (id) => select(id),
      onAction: async (payload, node) => {
        node.classList.add('busy');
        await post('/api/action', { user: S.user, channel: '', message_ts: '', view_id: '', ...where, ...payload });
        node.classList.remove('busy');
      },
    };
  }

  const AVATAR_COLOURS = ['#e01e5a', '#2eb67d', '#ecb22e', '#36c5f0', '#9b59b6', '#e8912d', '#1264a3', '#4a8f7f'];
  function avatar(id, name, bot) {
    if (bot) return h('div', { class: 'avatar bot', 'aria-hidden': 'true' }, 'S');
    let n = 0;
    for (const ch of id || '') n = (n * 31 + ch.charCodeAt(0)) >>> 0;
    return h('div', { class: 'avatar', style: `background:${AVATAR_COLOURS[n % AVATAR_COLOURS.length]}`, 'aria-hidden': 'true' },
      (name || '?').trim().charAt(0).toUpperCase());
  }

  const tsDate = (ts) => new Date(parseFloat(ts) * 1000);
  const clock = (ts) => tsDate(ts).toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' });
  const channelIcon = (c) => c.dm
    ? h('span', { class: 'avatar bot tiny', 'aria-hidden': 'true' }, 'S')
    : h('span', { class: 'ch-icon', 'aria-hidden': 'true' }, c.private ? '🔒' : '#');

  // ---- sidebar ----

  function renderSidebar(st) {
    const users = st.users || [];
    const usersKey = JSON.stringify(users);
    const sw = $('#user-switcher');
    if (usersKey !== S.usersKey) {
      S.usersKey = usersKey;
      sw.replaceChildren(...users.map((u) => h('option', { value: u.id }, u.real_name ? `${u.real_name} (@${u.name})` : u.name)));
    }
    if (document.activeElement !== sw) sw.value = S.user;
    $('#workspace').textContent = st.workspace || 'Sitrep Playground';
    for (const c of document.querySelectorAll('.cmd')) c.textContent = command() + ' help';
    $('[data-testid=app-home]').classList.toggle('active', S.channel === 'home');
    const alertsEntry = $('[data-testid=alerts-panel]');
    alertsEntry.hidden = !st.alerts;
    alertsEntry.classList.toggle('active', S.channel === 'alerts');

    const channels = st.channels || [];
    const dms = st.dms || [];
    const key = JSON.stringify([channels, dms, S.channel]);
    if (key === S.channelsKey) return;
    S.channelsKey = key;
    // Direct messages with Sitrep: pages arrive there, with their
    // Acknowledge button. Slack lists one once Sitrep has written.
    $('#dms-section').hidden = !dms.length;
    $('#dms').replaceChildren(...dms.map((c) => h('li', {},
      h('a', {
        href: '#', 'data-testid': 'dm', 'data-id': c.id,
        class: ['nav-item', c.id === S.channel && 'active'].filter(Boolean).join(' '),
        onclick: (e) => { e.preventDefault(); select(c.id); },
      }, channelIcon(c), h('span', { class: 'nav-label' }, c.name)))));
    $('#channels').replaceChildren(...channels.map((c) => h('li', {},
      h('a', {
        href: '#', 'data-testid': 'channel', 'data-name': c.name, 'data-private': c.private ? 'true' : null,
        'data-id': c.id,
        class: ['nav-item', c.id === S.channel && 'active', !c.member && 'not-member', c.archived && 'archived'].filter(Boolean).join(' '),
        title: c.member ? null : 'You are not a member of this channel',
        onclick: (e) => { e.preventDefault(); select(c.id); },
      }, channelIcon(c), h('span', { class: 'nav-label' }, c.name), c.archived ? h('span', { class: 'nav-tag' }, 'archived') : null))));
  }

  // ---- channel ----

  function renderChannel(st) {
    const ch = st.channel;
    $('#home').hidden = true;
    $('#alerts').hidden = true;
    $('#scroller').hidden = false;
    if (!ch) {
      setHeader(h('div', { class: 'ch-title' }, 'No channel'), null);
      $('#messages').replaceChildren();
      S.messages.clear();
      setFooter(null);
      return;
    }
    const pinned = (ch.messages || []).filter((m) => m.pinned).length;
    const headerKey = JSON.stringify([ch.id, ch.name, ch.private, ch.topic, ch.archived, pinned]);
    if (headerKey !== S.headerKey) {
      S.headerKey = headerKey;
      setHeader(
        h('h1', { class: 'ch-title', 'data-testid': 'channel-title' }, channelIcon(ch), h('span', {}, ch.name)),
        h('div', { class: 'ch-sub' },
          pinned ? h('button', { type: 'button', class: 'ch-pins', title: 'Show the first pinned message', onclick: scrollToPinned }, `📌 ${pinned} pinned`) : null,
          h('span', { class: 'ch-topic', 'data-testid': 'topic', title: ch.topic || null }, mrkdwn(ch.topic || '', blockCtx({}), { inline: true, noFormat: true }))));
      $('#intro').replaceChildren(
        h('div', { class: 'intro-title' }, channelIcon(ch), ch.name),
        h('div', { class: 'intro-text' }, ch.dm
          ? 'This is your direct message with Sitrep. When you are on call, pages reach you here: Acknowledge one to stop its escalation.'
          : `This is the very beginning of ${ch.private ? 'the private channel ' : ''}#${ch.name}.`));
    }
    renderFooter(ch); // first: it changes the scroller's height
    renderMessages(ch);
  }

  function scrollToPinned() {
    const m = document.querySelector('[data-testid=message][data-pinned=true]');
    if (!m) return;
    m.scrollIntoView({ block: 'center', behavior: 'smooth' });
    m.classList.add('flash');
    setTimeout(() => m.classList.remove('flash'), 1500);
  }

  function setHeader(title, sub) {
    $('#header').replaceChildren(title, sub || '');
    S.headerKey = sub ? S.headerKey : '';
  }

  // renderMessages keeps one element per message, keyed by ts, and
  // rebuilds only those whose JSON changed: an open <select> or a hover
  // elsewhere in the channel survives polling.
  function renderMessages(ch) {
    const box = $('#messages');
    // Mentions and channel links show names: rebuild all if those change.
    const names = (S.state.channels || []).map((c) => c.id + c.name).join();
    const scope = [S.user, ch.id, S.usersKey, names].join('|');
    if (scope !== S.messagesScope) {
      S.messagesScope = scope;
      S.messages.clear();
      box.replaceChildren();
      S.stick = true;
    }
    const atBottom = S.atBottom;
    const fresh = S.messages.size > 0; // not the first render of the channel
    let arrived = false;
    const seen = new Set();
    let prev = null;
    for (const m of ch.messages || []) {
      const key = (m.ephemeral ? 'e' : 'm') + m.ts;
      const json = JSON.stringify(m);
      let c = S.messages.get(key);
      if (!c) arrived = arrived || fresh;
      if (!c || c.json !== json) {
        const el = renderMessage(m, ch);
        if (c) c.el.replaceWith(el);
        c = { json, el };
        S.messages.set(key, c);
      }
      seen.add(key);
      const want = prev ? prev.nextSibling : box.firstChild;
      if (want !== c.el) box.insertBefore(c.el, want);
      prev = c.el;
    }
    for (const [key, c] of S.messages) {
      if (!seen.has(key)) { c.el.remove(); S.messages.delete(key); }
    }
    if (atBottom || S.stick) toBottom();
    else if (arrived) $('#new-messages').hidden = false; // below the fold: say so
    S.stick = false;
  }

  function toBottom() {
    const scroller = $('#scroller');
    scroller.scrollTop = scroller.scrollHeight;
    S.autoTop = scroller.scrollTop;
    S.atBottom = true;
    $('#new-messages').hidden = true;
  }

  function renderMessage(m, ch) {
    const bot = !!m.bot;
    const u = userById(m.user);
    const name = bot ? 'Sitrep' : m.user_name || (u && (u.real_name || u.name)) || m.user || 'someone';
    const system = SYSTEM_SUBTYPES.has(m.subtype);
    const ctx = blockCtx({ channel: ch.id, message_ts: m.ts });
    const hasBlocks = Array.isArray(m.blocks) && m.blocks.length > 0;
    const content = h('div', { class: 'msg-text', 'data-testid': 'message-text' },
      hasBlocks ? renderBlocks(m.blocks, ctx) : mrkdwn(m.text, ctx));
    const el = h('div', {
      class: ['msg', system && 'system', m.ephemeral && 'ephemeral', m.pinned && 'pinned'].filter(Boolean).join(' '),
      'data-testid': 'message', 'data-ts': m.ts,
      'data-ephemeral': m.ephemeral ? 'true' : null, 'data-pinned': m.pinned ? 'true' : null, 'data-bot': bot ? 'true' : null,
    });
    if (m.pinned) el.append(h('div', { class: 'msg-pinned' }, '📌 Pinned'));
    const time = h('time', { class: 'msg-time', datetime: tsDate(m.ts).toISOString(), title: tsDate(m.ts).toLocaleString() }, clock(m.ts));
    if (system) {
      content.classList.add('inline');
      el.append(h('div', { class: 'msg-gutter' }, h('span', { class: 'sys-icon', 'aria-hidden': 'true' }, '✎')),
        h('div', { class: 'msg-body' }, h('div', { class: 'sys-line' }, h('b', {}, name), ' ', content, ' ', time)));
    } else {
      el.append(h('div', { class: 'msg-gutter' }, avatar(m.user, name, bot)), h('div', { class: 'msg-body' },
        h('div', { class: 'msg-head' },
          h('span', { class: 'msg-name' }, name),
          bot ? h('span', { class: 'app-badge' }, 'APP') : null,
          time,
          m.ephemeral ? h('span', { class: 'msg-only-you' }, '👁 Only visible to you') : null),
        content,
        (m.files || []).map(fileCard),
        m.reply_count ? h('div', { class: 'msg-thread' }, `💬 ${m.reply_count} ${m.reply_count === 1 ? 'reply' : 'replies'}`) : null,
        reactions(m, ch)));
    }
    if (!m.ephemeral) el.append(toolbar(m, ch));
    return el;
  }

  function fileCard(f) {
    return h('div', { class: 'file-card' },
      h('div', { class: 'file-icon', 'aria-hidden': 'true' }, '📄'),
      h('div', { class: 'file-meta' },
        h('a', { href: '/api/file?id=' + encodeURIComponent(f.id), target: '_blank', rel: 'noopener', class: 'file-name' }, f.name || f.title || f.id),
        h('div', { class: 'file-sub' }, f.title && f.title !== f.name ? f.title : 'Markdown file')));
  }

  function reactions(m, ch) {
    if (!m.reactions || !m.reactions.length) return null;
    return h('div', { class: 'reactions' }, m.reactions.map((r) => {
      const mine = (r.users || []).includes(S.user);
      const who = (r.users || []).map((id) => { const u = userById(id); return u ? u.name : id; }).join(', ');
      return h('button', {
        type: 'button', class: 'reaction' + (mine ? ' mine' : ''), 'data-reaction': r.name, title: `${who} reacted with :${r.name}:`,
        onclick: () => { if (!mine) post('/api/react', { user: S.user, channel: ch.id, ts: m.ts, name: r.name }); },
      }, h('span', { class: 'reaction-emoji' }, emojify(`:${r.name}:`)), h('span', { class: 'reaction-count' }, String(r.count)));
    }));
  }

  // The hover toolbar: present in the DOM at all times (tests click it by
  // script), faded in by CSS on hover.
  function toolbar(m, ch) {
    return h('div', { class: 'msg-tools' },
      h('button', {
        type: 'button', class: 'tool', 'data-testid': 'react-pushpin', title: 'React with :pushpin: (adds it to the incident timeline)',
        onclick: () => post('/api/react', { user: S.user, channel: ch.id, ts: m.ts, name: 'pushpin' }),
      }, '📌'),
      h('button', {
        type: 'button', class: 'tool wide', 'data-testid': 'shortcut-add_to_timeline', title: 'Message shortcut: Add to incident timeline',
        onclick: () => post('/api/shortcut', { user: S.user, channel: ch.id, ts: m.ts, callback_id: 'add_to_timeline' }),
      }, '⋯ Add to incident timeline'));
  }

  // ---- footer: composer, join bar, archived notice ----

  function renderFooter(ch) {
    const mode = ch.archived ? 'archived' : ch.member ? 'composer' : 'join';
    const key = JSON.stringify([mode, ch.id, ch.name, ch.incident, command()]);
    if (key === S.footerKey) return;
    S.footerKey = key;
    if (mode === 'composer') {
      const ta = $('#composer');
      // An incident's channel is for working on it, not for declaring.
      ta.placeholder = ch.dm
        ? `Message ${ch.name} — try ${command()} oncall`
        : ch.incident
          ? `Message #${ch.name} — try ${command()} status identified, or ${command()} note what you found`
          : `Message #${ch.name} — try ${command()} declare sev1 Checkout failing`;
      setFooter($('#composer-box'));
      if (!S.state.modal && !isTyping()) ta.focus({ preventScroll: true });
    } else if (mode === 'join') {
      setFooter(h('div', { class: 'join-bar' },
        h('div', {}, 'You are viewing ', h('b', {}, '#' + ch.name), '. Join it to post and to use Sitrep here.'),
        h('button', {
          type: 'button', class: 'bk-btn primary', 'data-testid': 'join',
          onclick: () => post('/api/join', { user: S.user, channel: ch.id }),
        }, 'Join channel')));
    } else {
      setFooter(h('div', { class: 'join-bar archived' }, '🗄 You are viewing an archived channel.'));
    }
  }

  function setFooter(node) {
    const f = $('#footer');
    f.hidden = !node;
    // The composer element is kept (moved, not rebuilt) so its text survives.
    const box = $('#composer-box');
    if (node !== box) $('#parking').append(box);
    f.replaceChildren(...(node ? [node] : []));
    if (!node) S.footerKey = '';
  }

  const command = () => (S.state && S.state.command) || '/incident';

  const isTyping = () => ['INPUT', 'TEXTAREA', 'SELECT'].includes((document.activeElement || {}).tagName);

  function autosize(ta) {
    ta.style.height = 'auto';
    ta.style.height = Math.min(ta.scrollHeight, 220) + 'px';
  }

  async function send() {
    const ta = $('#composer');
    const text = ta.value;
    if (!text.trim() || !S.state || !S.state.channel) return;
    ta.value = '';
    autosize(ta);
    S.stick = true;
    const r = await post('/api/send', { user: S.user, channel: S.state.channel.id, text });
    if (!r.ok && !ta.value) { ta.value = text; autosize(ta); }
  }

  // ---- App Home ----

  function renderHome(st) {
    $('#alerts').hidden = true;
    $('#scroller').hidden = true;
    setFooter(null);
    const home = $('#home');
    home.hidden = false;
    S.headerKey = '';
    $('#header').replaceChildren(
      h('h1', { class: 'ch-title' }, h('span', { class: 'avatar bot small', 'aria-hidden': 'true' }, 'S'), h('span', {}, 'Sitrep'), h('span', { class: 'app-badge' }, 'APP')),
      h('div', { class: 'tabs' }, h('span', { class: 'tab active' }, 'Home')));
    const key = JSON.stringify([st.home, S.usersKey, S.user]);
    if (key === S.homeKey) return;
    S.homeKey = key;
    home.replaceChildren(st.home
      ? h('div', { class: 'home-view', 'data-testid': 'home' }, renderBlocks(st.home.blocks, blockCtx({ view_id: st.home.id || '' })))
      : h('div', { class: 'home-empty' }, 'Sitrep has not published your Home tab yet…'));
  }

  // ---- alert panel ----

  // renderAlerts shows a Fire and a Resolve button per monitoring system.
  // Each sends that system's own webhook to Sitrep (the playground server
  // does, signed as the system signs); what Sitrep makes of it shows up in
  // the channels, as it would in Slack.
  function renderAlerts(st) {
    $('#scroller').hidden = true;
    $('#home').hidden = true;
    setFooter(null);
    const panel = $('#alerts');
    panel.hidden = false;
    S.headerKey = '';
    $('#header').replaceChildren(
      h('h1', { class: 'ch-title' }, h('span', { class: 'ch-icon', 'aria-hidden': 'true' }, '🚨'), h('span', {}, 'Fire an alert')),
      h('div', { class: 'ch-sub' }, h('span', { class: 'ch-topic' }, 'Alerts from monitoring systems, sent to Sitrep as those systems send them')));
    const a = st.alerts;
    const key = JSON.stringify([a, S.user]);
    if (key === S.alertsKey) return;
    S.alertsKey = key;
    if (!a) { panel.replaceChildren(h('div', { class: 'home-empty' }, 'No alert source is on in this playground.')); return; }
    const send = async (source, status, btn) => {
      btn.disabled = true;
      await post('/api/alert', { user: S.user, source, status });
      btn.disabled = false;
    };
    panel.replaceChildren(h('div', { class: 'alerts-view', 'data-testid': 'alerts' },
      h('p', { class: 'alerts-intro' },
        'Each button sends a real webhook of that monitoring system to Sitrep\'s ', h('code', {}, 'POST /hooks/<source>'),
        ', authenticated as the system does it, with a secret this playground made up. ', a.routing),
      h('div', { class: 'alert-rows' }, (a.sources || []).map((s) => {
        const fire = h('button', { type: 'button', class: 'bk-btn danger', 'data-testid': 'alert-fire', onclick: () => send(s.source, 'firing', fire) }, 'Fire');
        const resolve = h('button', { type: 'button', class: 'bk-btn', 'data-testid': 'alert-resolve', onclick: () => send(s.source, 'resolved', resolve) }, 'Resolve');
        return h('div', { class: 'alert-row', 'data-testid': 'alert-source', 'data-source': s.source, 'data-status': s.status || null },
          h('div', { class: 'alert-main' },
            h('div', { class: 'alert-name' }, s.label, ' ',
              s.status ? h('span', { class: 'alert-badge ' + s.status }, s.status) : null),
            h('div', { class: 'alert-what' }, s.what),
            h('div', { class: 'alert-how' }, h('code', {}, 'POST ' + s.path), ' · ', s.auth),
            s.answer ? h('div', { class: 'alert-answer', 'data-testid': 'alert-answer' }, 'Sitrep answered ', h('code', {}, s.answer)) : null),
          h('div', { class: 'alert-buttons' }, fire, resolve));
      }))));
  }

  // ---- modal ----

  let modalInputs = [];

  // renderModal rebuilds the modal only when another one opens or its
  // blocks change, so what the user is typing survives polling.
  function renderModal(m) {
    const key = m ? JSON.stringify([m.id, m.title, m.submit, m.close, m.blocks, S.usersKey]) : '';
    if (key === S.modalKey) return;
    S.modalKey = key;
    const root = $('#modal-root');
    root.replaceChildren();
    if (!m) return;
    const ctx = blockCtx({ view_id: m.id });
    ctx.inputs = modalInputs = [];
    const close = () => post('/api/close', { user: S.user, view_id: m.id });
    const submitBtn = m.submit ? h('button', { type: 'button', class: 'bk-btn primary', 'data-testid': 'modal-submit', onclick: () => submit(m, submitBtn) }, plain(m.submit)) : null;
    const dialog = h('div', { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'modal-title', 'data-testid': 'modal', 'data-view-id': m.id },
      h('div', { class: 'modal-head' },
        h('span', { class: 'avatar bot small', 'aria-hidden': 'true' }, 'S'),
        h('h2', { id: 'modal-title', 'data-testid': 'modal-title' }, plain(m.title)),
        h('button', { type: 'button', class: 'modal-x', title: 'Close', 'aria-label': 'Close', onclick: close }, '×')),
      h('div', { class: 'modal-body' }, h('div', { class: 'modal-errors' }), renderBlocks(m.blocks, ctx)),
      h('div', { class: 'modal-foot' },
        h('button', { type: 'button', class: 'bk-btn', 'data-testid': 'modal-close', onclick: close }, plain(m.close) || (m.submit ? 'Cancel' : 'Close')),
        submitBtn));
    root.append(h('div', { class: 'modal-backdrop' }, dialog));
    const first = dialog.querySelector('.modal-body input[type=text], .modal-body textarea') || dialog.querySelector('.modal-body select');
    if (first) first.focus();
  }

  async function submit(m, btn) {
    const values = {};
    for (const i of modalInputs) (values[i.block_id] ||= {})[i.action_id] = i.get();
    const dialog = $('[data-testid=modal]');
    for (const e of dialog.querySelectorAll('[data-testid=modal-error]')) e.remove();
    btn.disabled = true;
    const r = await post('/api/submit', { user: S.user, view_id: m.id, values }, { quiet: true });
    btn.disabled = false;
    if (r.ok) {
      if (S.modalKey.includes(JSON.stringify(m.id))) { $('#modal-root').replaceChildren(); S.modalKey = ''; }
      return;
    }
    if (!r.errors) { showBanner(r.error || 'The form could not be submitted.'); return; }
    for (const [blockID, msg] of Object.entries(r.errors)) {
      const field = [...dialog.querySelectorAll('.bk-field')].find((f) => f.dataset.blockId === blockID);
      const err = h('div', { class: 'modal-error', 'data-testid': 'modal-error', 'data-block-id': blockID }, msg);
      if (field) field.append(err); else dialog.querySelector('.modal-errors').append(err);
    }
    const firstErr = dialog.querySelector('[data-testid=modal-error]');
    if (firstErr) firstErr.scrollIntoView({ block: 'nearest' });
  }

  // ---- wiring ----

  // On a narrow screen the sidebar is a drawer: the menu button opens it,
  // choosing a channel or tapping beside it closes it.
  function closeNav() { $('.app').classList.remove('nav-open'); }

  function init() {
    const sw = $('#user-switcher');
    sw.addEventListener('change', () => {
      S.user = sw.value;
      localStorage.setItem('sitrep.user', S.user);
      S.lastKey = S.modalKey = S.homeKey = '';
      if (S.channel === 'home') post('/api/home', { user: S.user }); else poll();
    });
    $('[data-testid=app-home]').addEventListener('click', (e) => { e.preventDefault(); select('home'); });
    $('[data-testid=alerts-panel]').addEventListener('click', (e) => { e.preventDefault(); select('alerts'); });
    const ta = $('#composer');
    ta.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
    });
    // Drivers that send Enter as a separate "char" event (CDP) would still
    // insert a line break after the message went: swallow it.
    ta.addEventListener('keypress', (e) => { if (e.key === 'Enter' && !e.shiftKey) e.preventDefault(); });
    ta.addEventListener('input', () => autosize(ta));
    $('#send').addEventListener('click', send);
    // Stay at the bottom while content below grows (fonts, images, new
    // messages) if the reader was at the bottom.
    const scroller = $('#scroller');
    scroller.addEventListener('scroll', () => {
      if (scroller.scrollTop === S.autoTop) return; // our own scroll, reported late
      S.atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
      if (S.atBottom) $('#new-messages').hidden = true;
    });
    $('#new-messages').addEventListener('click', () => toBottom());
    $('#menu').addEventListener('click', () => $('.app').classList.toggle('nav-open'));
    $('#nav-shade').addEventListener('click', closeNav);
    const keepBottom = new ResizeObserver(() => { if (S.atBottom) toBottom(); });
    keepBottom.observe($('#messages'));
    keepBottom.observe(scroller);
    document.addEventListener('keydown', (e) => {
      const m = S.state && S.state.modal;
      if (e.key === 'Escape' && m && $('#modal-root').firstChild) post('/api/close', { user: S.user, view_id: m.id });
    });
    if (S.channel === 'home' && S.user) post('/api/home', { user: S.user }); else poll();
  }

  init();
})();
