// blockkit.js renders Slack's mrkdwn and Block Kit (messages, the App Home
// tab, modals) into DOM nodes for the playground page.
//
// Safety rule: text from messages (people's or Sitrep's) only ever becomes
// text nodes or attribute values set through the DOM; nothing here writes
// innerHTML. Links are kept only for http(s) and mailto URLs, and bare
// URLs in text become links only when they start with http:// or https://.
'use strict';

const BlockKit = (() => {
  // Emoji codes Sitrep sends (grep ':[a-z_]+:' in bot/ and templates/), then
  // common ones people type. Unknown codes stay as text.
  const EMOJI = {
    alarm_clock: '⏰', arrow_down: '⬇️', bulb: '💡', bust_in_silhouette: '👤', dart: '🎯',
    eyes: '👀', fast_forward: '⏩', grey_question: '❔', hourglass: '⌛',
    large_green_circle: '🟢', large_orange_circle: '🟠', leftwards_arrow_with_hook: '↩️',
    lock: '🔒', loudspeaker: '📢', mag: '🔍', memo: '📝', pushpin: '📌', rotating_light: '🚨',
    sunny: '☀️', test_tube: '🧪', warning: '⚠️', white_check_mark: '✅',
    white_large_square: '⬜', x: '❌',
    '+1': '👍', thumbsup: '👍', '-1': '👎', thumbsdown: '👎', ok_hand: '👌', clap: '👏',
    pray: '🙏', raised_hands: '🙌', wave: '👋', point_right: '👉', muscle: '💪',
    smile: '😄', slightly_smiling_face: '🙂', joy: '😂', sweat_smile: '😅', thinking_face: '🤔',
    scream: '😱', sob: '😭', tada: '🎉', fire: '🔥', boom: '💥', rocket: '🚀', heart: '❤️',
    heavy_check_mark: '✔️', ballot_box_with_check: '☑️', question: '❓', exclamation: '❗',
    red_circle: '🔴', large_yellow_circle: '🟡', large_blue_circle: '🔵', construction: '🚧',
    bell: '🔔', wrench: '🔧', hammer_and_wrench: '🛠️', gear: '⚙️', calendar: '📅',
    chart_with_upwards_trend: '📈', chart_with_downwards_trend: '📉', clipboard: '📋',
    link: '🔗', mag_right: '🔎', stopwatch: '⏱️', hourglass_flowing_sand: '⏳', zap: '⚡',
    bug: '🐛', sparkles: '✨', star: '⭐', no_entry: '⛔', information_source: 'ℹ️',
    speech_balloon: '💬', mega: '📣', siren: '🚨', ambulance: '🚑', skull: '💀',
  };
  const emojify = (s) => s.replace(/:([a-z0-9_+'-]+):/g, (m, n) => EMOJI[n] || m);
  // Slack escapes exactly &, < and > in text; decode them once.
  const decode = (s) => s.replace(/&(lt|gt|amp);/g, (m, e) => ({ lt: '<', gt: '>', amp: '&' })[e]);

  // h builds an element. props: class, text, on* handlers, and attributes
  // (null, undefined and false are left out). Children may be strings,
  // nodes, arrays or null.
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c != null && c !== false) el.append(c);
    }
    return el;
  }

  // A text object ({type, text, emoji}) or a bare string, as plain text.
  function plain(t) {
    if (t == null) return '';
    if (typeof t === 'string') return t;
    const s = String(t.text || '');
    if (t.type === 'mrkdwn') return emojify(decode(s));
    return t.emoji ? emojify(s) : s;
  }

  function safeURL(u) {
    return /^(https?:|mailto:)/i.test(u) ? u : null;
  }

  // Slack's <!date^ts^format^link|fallback>, in the browser's locale.
  function formatDate(ts, format, fallback) {
    const d = new Date(Number(ts) * 1000);
    if (!ts || Number.isNaN(d.getTime())) return fallback || '';
    const day = (o) => d.toLocaleDateString(undefined, o);
    const pretty = (o) => {
      const midnight = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
      const diff = Math.round((midnight(d) - midnight(new Date())) / 86400000);
      return ({ 0: 'Today', [-1]: 'Yesterday', 1: 'Tomorrow' })[diff] || day(o);
    };
    const long = { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' };
    const short = { year: 'numeric', month: 'short', day: 'numeric' };
    const normal = { year: 'numeric', month: 'long', day: 'numeric' };
    const tokens = {
      date_num: () => day({ year: 'numeric', month: '2-digit', day: '2-digit' }),
      date: () => day(normal), date_short: () => day(short), date_long: () => day(long),
      date_pretty: () => pretty(normal), date_short_pretty: () => pretty(short),
      date_long_pretty: () => pretty(long),
      time: () => d.toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' }),
      time_secs: () => d.toLocaleTimeString(),
      ago: () => {
        const min = Math.round((Date.now() - d.getTime()) / 60000);
        const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
        if (Math.abs(min) < 60) return rtf.format(-min, 'minute');
        if (Math.abs(min) < 1440) return rtf.format(-Math.round(min / 60), 'hour');
        return rtf.format(-Math.round(min / 1440), 'day');
      },
    };
    return format.replace(/\{(\w+)\}/g, (m, k) => (tokens[k] ? tokens[k]() : m));
  }

  // One <…> markup: mentions, channels, specials, dates and links. Returns
  // null for anything else, which then stays literal text.
  function markup(target, label, ctx) {
    const lbl = label != null ? decode(label) : '';
    const kind = target[0];
    if (kind === '@') {
      const id = target.slice(1);
      const name = lbl || ctx.userName(id) || id;
      return h('span', { class: 'mention' + (id === ctx.me ? ' me' : ''), 'data-user-id': id }, '@' + name);
    }
    if (kind === '#') {
      const id = target.slice(1);
      const name = lbl || ctx.channelName(id) || id;
      return h('a', { class: 'channel-link', href: '#', onclick: (e) => { e.preventDefault(); ctx.openChannel(id); } }, '#' + name);
    }
    if (kind === '!') {
      const [cmd, ...args] = target.slice(1).split('^');
      if (['here', 'channel', 'everyone'].includes(cmd)) return h('span', { class: 'mention broadcast' }, '@' + cmd);
      if (cmd === 'date') {
        const text = formatDate(args[0], args[1] || '', lbl);
        const link = safeURL(args[2] || '');
        const title = lbl || null;
        return link ? h('a', { href: link, target: '_blank', rel: 'noopener noreferrer', title }, text)
          : h('span', { class: 'date', title }, text);
      }
      if (cmd === 'subteam') return h('span', { class: 'mention' }, lbl || '@group');
      return document.createTextNode(lbl || '@' + cmd);
    }
    const url = safeURL(decode(target));
    if (url) return link(url, emojify(lbl || url));
    return null;
  }

  // A bare URL in text, as Slack links it: http(s) only, up to whitespace
  // or markup, without the punctuation that ends a sentence. (\0 marks
  // the placeholders of inline.)
  const BARE_URL = /\bhttps?:\/\/[^\s<>"\0]*[^\s<>"\0.,;:!?)\]'*_~]/gi;
  const link = (url, label) => h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, label);

  // Bold/italic/strike: the marker must not touch a letter or digit on the
  // outside nor whitespace on the inside, as in Slack (so snake_case and
  // :white_large_square: are left alone).
  const FORMAT = /(?<![\p{L}\p{N}*_~])([*_~])(?!\s)((?:(?!\1)[^\n])+?)(?<!\s)\1(?![\p{L}\p{N}*_~])/u;
  const TAGS = { '*': 'b', _: 'i', '~': 's' };

  // inline renders one run of mrkdwn without block structure. Code spans
  // and <…> markup are swapped for \0n\0 placeholders first so that the
  // formatting pass never looks inside them.
  function inline(str, ctx, opts) {
    const tokens = [];
    const hold = (node) => `\0${tokens.push(node) - 1}\0`;
    str = str.replace(/`([^`\n]+)`/g, (m, code) => hold(h('code', {}, decode(code))));
    str = str.replace(/<([^<>|\n]*)(?:\|([^<>\n]*))?>/g, (m, t, l) => {
      const node = markup(t, l, ctx);
      return node ? hold(node) : m;
    });
    // Held before formatting, so that the _ and * of a URL stay in it.
    str = str.replace(BARE_URL, (u) => { const url = decode(u); return hold(link(url, url)); });
    const emit = (s) => s.split(/\0(\d+)\0/).map((part, i) =>
      (i % 2 ? tokens[Number(part)] : part && document.createTextNode(emojify(decode(part)))));
    const format = (s) => {
      const out = [];
      for (let m; (m = FORMAT.exec(s));) {
        out.push(emit(s.slice(0, m.index)), h(TAGS[m[1]], {}, format(m[2])));
        s = s.slice(m.index + m[0].length);
      }
      out.push(emit(s));
      return out;
    };
    return opts && opts.noFormat ? emit(str) : format(str);
  }

  // mrkdwn renders Slack mrkdwn: ```pre``` blocks, > quote lines, then
  // inline formatting. The container keeps newlines (white-space: pre-wrap).
  function mrkdwn(text, ctx, opts = {}) {
    const out = h(opts.inline ? 'span' : 'div', { class: 'mrkdwn' });
    const parts = String(text || '').replace(/\0/g, '').split('```');
    if (parts.length % 2 === 0) parts.push(parts.splice(-2).join('```')); // an unclosed fence is text
    parts.forEach((part, i) => {
      if (i % 2) {
        out.append(h('pre', {}, decode(part.replace(/^\n|\n$/g, ''))));
        return;
      }
      if (i > 0) part = part.replace(/^\n/, '');
      if (i < parts.length - 1) part = part.replace(/\n$/, '');
      let run = [];
      let quoting = false;
      const flush = () => {
        if (!run.length) return;
        const nodes = inline(run.join('\n'), ctx, opts);
        out.append(quoting ? h('blockquote', {}, nodes) : h('span', {}, nodes));
        run = [];
      };
      for (const line of part.split('\n')) {
        const q = /^(>|&gt;) ?/.exec(line);
        if (!!q !== quoting) { flush(); quoting = !!q; }
        run.push(q ? line.slice(q[0].length) : line);
      }
      flush();
    });
    return out;
  }

  // A text object as DOM: mrkdwn, or plain text (with :emoji: if asked).
  function text(t, ctx, opts) {
    if (!t) return null;
    if (t.type === 'mrkdwn') return mrkdwn(t.text, ctx, opts);
    return h(opts && opts.inline ? 'span' : 'div', { class: 'plain' }, plain(t));
  }

  // ---- interactive elements ----

  const optionLabel = (o) => plain(o.text) + (o.description ? ' — ' + plain(o.description) : '');
  const allOptions = (e) => (e.options || []).concat(...(e.option_groups || []).map((g) => g.options || []));

  // A real <select>: an empty first option for the placeholder, then the
  // choices. Users and channels come from the playground's state.
  function selectEl(e, attrs, ctx) {
    const multi = e.type.startsWith('multi_');
    const base = e.type.replace(/^multi_/, '');
    const s = h('select', { ...attrs, class: 'bk-select' + (multi ? ' multi' : ''), multiple: multi });
    if (!multi) s.append(h('option', { value: '' }, base === 'overflow' ? '⋯' : plain(e.placeholder) || 'Select…'));
    let initial = [];
    if (base === 'users_select') {
      ctx.users.forEach((u) => s.append(h('option', { value: u.id }, u.real_name || u.name)));
      initial = e.initial_users || [e.initial_user];
    } else if (base === 'conversations_select' || base === 'channels_select') {
      ctx.channels.forEach((c) => s.append(h('option', { value: c.id }, '#' + c.name)));
      initial = e.initial_conversations || e.initial_channels || [e.initial_conversation || e.initial_channel];
    } else {
      const add = (parent, o) => parent.append(h('option', { value: o.value, title: o.description ? plain(o.description) : null }, optionLabel(o)));
      (e.options || []).forEach((o) => add(s, o));
      (e.option_groups || []).forEach((g) => {
        const grp = h('optgroup', { label: plain(g.label) });
        (g.options || []).forEach((o) => add(grp, o));
        s.append(grp);
      });
      initial = (e.initial_options || [e.initial_option]).map((o) => o && o.value);
    }
    for (const opt of s.options) opt.selected = opt.value !== '' && initial.includes(opt.value);
    if (!multi && !initial.some(Boolean)) s.value = '';
    s.classList.toggle('empty', s.value === '');
    s.addEventListener('change', () => s.classList.toggle('empty', s.value === ''));
    return s;
  }

  // Checkboxes and radio buttons: real inputs, each carrying the IDs.
  let radioGroup = 0;
  function choicesEl(e, attrs) {
    const radio = e.type === 'radio_buttons';
    const name = 'bk-radio-' + ++radioGroup;
    const initial = (radio ? [e.initial_option] : e.initial_options || []).filter(Boolean).map((o) => o.value);
    return h('div', { class: 'bk-choices' }, (e.options || []).map((o) => h('label', { class: 'bk-choice' },
      h('input', { ...attrs, type: radio ? 'radio' : 'checkbox', name: radio ? name : null, value: o.value, checked: initial.includes(o.value) }),
      h('span', {}, h('span', { class: 'bk-choice-text' }, plain(o.text)),
        o.description ? h('span', { class: 'bk-choice-desc' }, plain(o.description)) : null))));
  }

  // stateOf reads an element's current value in Slack's view.state.values
  // shape (also the extra fields of a block_actions payload).
  function stateOf(e, node) {
    const type = e.type;
    const picked = (vals) => allOptions(e).filter((o) => vals.includes(o.value));
    if (type === 'checkboxes' || type === 'radio_buttons') {
      const vals = [...node.querySelectorAll('input:checked')].map((i) => i.value);
      return type === 'checkboxes' ? { type, selected_options: picked(vals) } : { type, selected_option: picked(vals)[0] || null };
    }
    if (node.tagName === 'SELECT') {
      const vals = [...node.selectedOptions].map((o) => o.value).filter(Boolean);
      const one = vals[0] || null;
      switch (type) {
        case 'users_select': return { type, selected_user: one };
        case 'multi_users_select': return { type, selected_users: vals };
        case 'conversations_select': return { type, selected_conversation: one };
        case 'multi_conversations_select': return { type, selected_conversations: vals };
        case 'channels_select': return { type, selected_channel: one };
        case 'multi_channels_select': return { type, selected_channels: vals };
        default: return type.startsWith('multi_') ? { type, selected_options: picked(vals) } : { type, selected_option: picked(vals)[0] || null };
      }
    }
    if (type === 'datepicker') return { type, selected_date: node.value || null };
    if (type === 'timepicker') return { type, selected_time: node.value || null };
    return { type, value: node.value === '' ? null : node.value };
  }

  // element renders one interactive element of block b. live elements
  // (outside input blocks) send an action as soon as they are used.
  function element(e, b, ctx, live) {
    const attrs = { 'data-action-id': e.action_id || '', 'data-block-id': b.block_id || '' };
    const send = (node, extra) => ctx.onAction({ block_id: b.block_id || '', action_id: e.action_id || '', ...stateOf(e, node), ...extra }, node);
    let node;
    switch (e.type) {
      case 'button': {
        node = h('button', { ...attrs, type: 'button', class: 'bk-btn' + (e.style ? ' ' + e.style : ''), 'data-value': e.value ?? '' }, plain(e.text));
        const url = safeURL(e.url || '');
        node.addEventListener('click', () => {
          if (e.confirm && !window.confirm(plain(e.confirm.title) + '\n\n' + plain(e.confirm.text))) return;
          if (url) window.open(url, '_blank', 'noopener');
          ctx.onAction({ block_id: b.block_id || '', action_id: e.action_id || '', type: 'button', value: e.value ?? '' }, node);
        });
        return node;
      }
      case 'image':
        return safeURL(e.image_url || '') ? h('img', { class: 'bk-img-el', src: e.image_url, alt: e.alt_text || '' }) : null;
      case 'checkboxes': case 'radio_buttons':
        node = choicesEl(e, attrs);
        if (live) node.addEventListener('change', () => send(node));
        break;
      case 'plain_text_input': case 'email_text_input': case 'url_text_input': case 'number_input': {
        const kind = { email_text_input: 'email', url_text_input: 'url', number_input: 'number' }[e.type] || 'text';
        const props = { ...attrs, class: 'bk-text', placeholder: plain(e.placeholder) || null };
        node = e.multiline ? h('textarea', { ...props, rows: 4 }) : h('input', { ...props, type: kind });
        node.value = e.initial_value ?? '';
        if (live) node.addEventListener('change', () => send(node));
        break;
      }
      case 'datepicker': case 'timepicker':
        node = h('input', { ...attrs, class: 'bk-text bk-short', type: e.type === 'datepicker' ? 'date' : 'time' });
        node.value = e.initial_date || e.initial_time || '';
        if (live) node.addEventListener('change', () => send(node));
        break;
      default:
        if (!/select$|^overflow$/.test(e.type) || e.type === 'external_select') return unsupported('element: ' + e.type);
        node = selectEl(e, attrs, ctx);
        if (e.type === 'overflow') node.classList.add('bk-overflow');
        if (live) {
          node.addEventListener('change', () => {
            send(node);
            if (e.type === 'overflow') node.value = '';
          });
        }
    }
    node.bkState = () => stateOf(e, node);
    return node;
  }

  const unsupported = (what) => h('div', { class: 'bk-unsupported' }, `[unsupported ${what}]`);

  // ---- blocks ----

  function block(b, ctx) {
    const attrs = { class: 'bk bk-' + b.type, 'data-block-id': b.block_id || null };
    switch (b.type) {
      case 'header':
        return h('div', attrs, plain(b.text));
      case 'divider':
        return h('hr', attrs);
      case 'section': {
        const acc = b.accessory ? element(b.accessory, b, ctx, true) : null;
        return h('div', attrs, h('div', { class: 'bk-section-main' },
          text(b.text, ctx),
          b.fields ? h('div', { class: 'bk-fields' }, b.fields.map((f) => text(f, ctx))) : null),
        acc ? h('div', { class: 'bk-accessory' }, acc) : null);
      }
      case 'context':
        return h('div', attrs, (b.elements || []).map((e) => (e.type === 'image'
          ? safeURL(e.image_url || '') && h('img', { class: 'bk-context-img', src: e.image_url, alt: e.alt_text || '' })
          : text(e, ctx, { inline: true }))));
      case 'actions':
        return h('div', attrs, (b.elements || []).map((e) => element(e, b, ctx, true)));
      case 'image': {
        if (!safeURL(b.image_url || '')) return unsupported('image');
        return h('figure', attrs, b.title ? h('figcaption', {}, plain(b.title)) : null,
          h('img', { src: b.image_url, alt: b.alt_text || '' }));
      }
      case 'input': {
        const e = b.element || {};
        const node = element(e, b, ctx, !!b.dispatch_action);
        if (node && node.bkState && ctx.inputs) ctx.inputs.push({ block_id: b.block_id || '', action_id: e.action_id || '', get: node.bkState });
        return h('div', { ...attrs, class: attrs.class + ' bk-field' },
          h('label', { class: 'bk-label' }, plain(b.label), b.optional ? h('span', { class: 'bk-optional' }, ' (optional)') : null),
          node,
          b.hint ? h('div', { class: 'bk-hint' }, plain(b.hint)) : null);
      }
      default:
        return unsupported('block: ' + b.type);
    }
  }

  // renderBlocks renders a blocks array. ctx: {me, users, channels,
  // userName(id), channelName(id), openChannel(id), onAction(payload, node),
  // inputs (an array that input blocks register their value readers in)}.
  function renderBlocks(blocks, ctx) {
    return h('div', { class: 'blocks' }, (blocks || []).map((b) => {
      try {
        return block(b || {}, ctx);
      } catch (err) {
        console.error('block', b, err);
        return unsupported('block: ' + (b && b.type));
      }
    }));
  }

  return { h, plain, mrkdwn, renderBlocks, emojify, EMOJI };
})();
