// Service worker: shows Web Push notifications (docs/push.md). The payload is the server's JSON
// {type, chat_id, message_id, seq, from, sender_name, chat_name, preview, unread_count}, decrypted by the browser.
// Clicking a notification focuses an open tab on that chat, or opens one.
/* eslint-env serviceworker */
// @ts-nocheck — a service worker's global scope; the page modules are the type-checked part.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { data = {}; }
  if (data.type !== 'new_message') return;
  event.waitUntil((async () => {
    // A visible tab shows the message itself: no system notification on top of it.
    const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    if (tabs.some((c) => c.visibilityState === 'visible')) return;
    const title = data.chat_name || data.sender_name || 'New message';
    const body = data.preview
      ? (data.chat_name && data.chat_name !== data.sender_name ? `${data.sender_name}: ${data.preview}` : data.preview)
      : `New message from ${data.sender_name || 'someone'}`;
    await self.registration.showNotification(title, {
      body,
      tag: data.chat_id, // one notification per chat, replaced by the next
      renotify: true,
      data: { chat_id: data.chat_id },
    });
  })());
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const chatId = event.notification.data && event.notification.data.chat_id;
  const url = new URL(chatId ? `./#/chat/${encodeURIComponent(chatId)}` : './', self.registration.scope).href;
  event.waitUntil((async () => {
    const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const tab of tabs) {
      if ('focus' in tab) {
        await tab.focus();
        if ('navigate' in tab) await tab.navigate(url).catch(() => {});
        return;
      }
    }
    await self.clients.openWindow(url);
  })());
});
