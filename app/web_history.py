"""Past conversations kept in the browser (Gradio's own saved history), plus the one thing it lacks: a name.

Gradio's ChatInterface(save_history=True) lists, reopens and deletes conversations in localStorage; each answer's
sources live in its own message, so they come back with it. It titles each by its first question and offers no
rename, so names live beside it in a second localStorage entry keyed by the conversation's first exchange.
With a login (an API key set), the server keeps each user's list and names too (app/conversations.py) and the
page loads them from there, so they follow the user to another browser.
"""
import hashlib

import gradio as gr

from app.conversations import ConversationStore
from app.web_feedback import message_text
from app.web_labels import request_language
from app.web_sources import plain_answer

HISTORY_KEY, TITLES_KEY = "kabar_saved_conversations", "kabar_conversation_titles"
# Gradio encrypts browser state with a key it draws anew at each start, so a restarted server could no longer
# read what the browser kept. The key travels to the page anyway, so a fixed one protects no less.
BROWSER_KEY = "kabar-conversations-v1"
MAX_TITLE = 80
WORDS = {"en": {"nothing": "Ask a question first: a conversation is saved once its first answer is in."},
         "id": {"nothing": "Ajukan pertanyaan dulu: percakapan disimpan setelah jawaban pertamanya masuk."}}


def conversation_key(messages: list) -> str:
    """Stable while a conversation grows: its first question and first answer (the list index shifts)."""
    first = {}
    for message in messages or []:
        role = message.get("role") if isinstance(message, dict) else None
        if role in ("user", "assistant") and role not in first:
            first[role] = message_text(message)
    text = first.get("user", "") + "\n" + plain_answer(first.get("assistant", ""))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def renamed_titles(name: str, index, conversations: list, titles: dict | None) -> dict | None:
    """The names after renaming conversation ``index`` (an empty name restores the first question);
    names of deleted conversations are dropped. None when there is no saved conversation to rename."""
    if index is None or not conversations or not 0 <= index < len(conversations):
        return None
    keys = {conversation_key(c) for c in conversations if c}
    kept = {k: v for k, v in (titles or {}).items() if k in keys}
    name = " ".join((name or "").split())[:MAX_TITLE]
    key = conversation_key(conversations[index])
    if name:
        kept[key] = name
    else:
        kept.pop(key, None)
    return kept


def extended_index(conversation: list, saved: list) -> int | None:
    """The saved conversation this one continues (or repeats), if any: Gradio saves just after an answer, and
    a New chat clicked in between would otherwise save the open conversation a second time."""
    def turns(messages: list) -> list[tuple]:
        return [(m.get("role"), message_text(m)) for m in messages or [] if isinstance(m, dict)]

    now = turns(conversation)
    for index, kept in enumerate(saved or []):
        earlier = turns(kept)
        if earlier and now[:len(earlier)] == earlier:
            return index
    return None


class KabarChat(gr.ChatInterface):
    """ChatInterface with saved history on, a rename box under the list, and the server's copy per user."""

    def __init__(self, *args, labels, store: ConversationStore | None = None, **kwargs):
        self._labels, self._store = labels, store  # read while the parent renders the history area
        super().__init__(*args, save_history=True, **kwargs)

    def _user(self, request: gr.Request | None) -> str | None:
        """Who is logged in to the page; None without a login (the browser alone keeps the list)."""
        return getattr(request, "username", None) if self._store is not None else None

    def _save_conversation(self, index, conversation, saved_conversations, request: gr.Request):
        """Gradio's save into the browser (no second copy of one conversation), and into the user's file."""
        if not conversation:  # a save that lands after New chat emptied the chat: nothing to keep
            return index, saved_conversations
        if index is None:
            index = extended_index(conversation, saved_conversations)
        index, saved = super()._save_conversation(index, conversation, saved_conversations)
        if user := self._user(request):
            self._store.save(user, conversations=saved)
        return index, saved

    def _delete_conversation(self, index, saved_conversations, request: gr.Request):
        """Gradio's delete (the chat's trash icon), in the user's file too when logged in."""
        index, saved = super()._delete_conversation(index, saved_conversations)
        if user := self._user(request):
            self._store.save(user, conversations=saved)
        return index, saved

    def restored(self, request: gr.Request):
        """With a login, the user's list and names from the server replace the browser's."""
        user = self._user(request)
        if not user:
            return gr.skip(), gr.skip()
        kept = self._store.load(user) or {"conversations": [], "titles": {}}
        return kept["conversations"], kept["titles"]

    def _render_history_area(self):
        """Gradio's list and New chat button, then the rename box; what the browser keeps survives a restart."""
        super()._render_history_area()
        self.saved_conversations.storage_key, self.saved_conversations.secret = HISTORY_KEY, BROWSER_KEY
        self.new_chat_button.elem_id = "new-chat"
        self.chat_history_dataset.elem_id = "conversations"
        self.titles = gr.BrowserState({}, storage_key=TITLES_KEY, secret=BROWSER_KEY)
        column = self.chat_history_dataset.parent
        column.min_width = 160  # room for a title and the rename box
        with column:  # under the list, in the history column
            self.rename_box = gr.Textbox(label=self._labels("rename_placeholder"), show_label=False, max_lines=1,
                                         placeholder=self._labels("rename_hint"), elem_id="rename-box")
            self.rename_button = gr.Button(self._labels("rename"), size="sm", elem_id="rename-button")

    def _load_chat_history(self, conversations):
        """Gradio's own listing stands aside; ``listed`` below draws the list with the names."""
        return gr.skip()

    def listed(self, conversations: list, titles: dict | None):
        """The saved conversations, newest first, each under its name or its first question."""
        titles = titles or {}
        return gr.Dataset(samples=[[titles.get(conversation_key(c)) or self._generate_chat_title(c)]
                                   for c in conversations or [] if c])

    def _setup_events(self) -> None:
        """Gradio's events, then ours (inside the interface's own Blocks context, as events must be)."""
        super()._setup_events()
        self._wire_names()

    def _wire_names(self) -> None:
        """List again whenever the conversations or their names change; rename the open one."""
        def rename(name: str, index, conversations: list, titles: dict, request: gr.Request):
            kept = renamed_titles(name, index, conversations, titles)
            if kept is None:
                gr.Warning(WORDS[request_language(request)]["nothing"])
                return gr.skip(), name
            if user := self._user(request):
                self._store.save(user, titles=kept)
            return kept, ""

        self.load(self.restored, None, [self.saved_conversations, self.titles], queue=False, api_name=False)
        gr.on([self.load, self.saved_conversations.change, self.titles.change], self.listed,
              [self.saved_conversations, self.titles], [self.chat_history_dataset], queue=False, api_name=False)
        gr.on([self.rename_button.click, self.rename_box.submit], rename,
              [self.rename_box, self.conversation_id, self.saved_conversations, self.titles],
              [self.titles, self.rename_box], queue=False, api_name=False)
