using Chat.Core.Domain;
using Chat.Core.Search;
using Chat.Core.Storage;
using Chat.Tests.Storage;

namespace Chat.Tests.Search;

/// <summary>
/// What every store's search promises (src/Chat.Core/Search/ISearchStore.cs and PROTOCOL.md "Search"), checked on
/// the real database: prefix matching of every query word ignoring case and diacritics, only chats the caller is a
/// member of now, the index following edits and tombstones made directly on the row, newest first with paging, people
/// by username or display-name word, and a database from before search indexed when it opens.
/// </summary>
public abstract class SearchContract : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly List<IChatStore> _opened = [];
    private IChatStore _store = null!;
    private long _clock = 1_700_000_000_000;
    private int _cmid;

    protected abstract Task<IChatStore> OpenStoreAsync();
    protected virtual Task DropDatabaseAsync() => Task.CompletedTask;
    /// <summary>Changes a row's content behind the store's back (as an edit or a tombstone of another feature does).</summary>
    protected abstract Task SetContentAsync(string chatId, long seq, string content);
    /// <summary>Turns the database into one written before search existed: no index entries for the stored messages.</summary>
    protected abstract Task ForgetSearchIndexAsync();

    public async Task InitializeAsync() => _store = await OpenAsync();

    public async Task DisposeAsync()
    {
        await CloseAllAsync();
        await DropDatabaseAsync();
    }

    private async Task CloseAllAsync()
    {
        foreach (var s in _opened)
        {
            if (s is IAsyncDisposable ad) await ad.DisposeAsync();
            else if (s is IDisposable d) d.Dispose();
        }
        _opened.Clear();
    }

    private async Task<IChatStore> OpenAsync()
    {
        var s = await OpenStoreAsync();
        _opened.Add(s);
        return s;
    }

    private async Task<string> UserAsync(string username = "user", string? display = null)
    {
        string id = Ids.NewId();
        Assert.True(await _store.CreateUserAsync(new UserRecord(id, username, display ?? username, "hash", _clock), None));
        return id;
    }

    private async Task<string> GroupAsync(string creator, params string[] others)
    {
        string id = Ids.NewId();
        await _store.CreateGroupAsync(new GroupRecord(id, "team", "", creator, _clock, [creator, .. others], [creator]), None);
        return id;
    }

    private async Task<StoredMessage> SendAsync(string chatId, string from, string content, string? directPeer = null)
    {
        var m = new NewMessage(Ids.NewMessageId(), chatId, from, "dev-" + from, "c" + ++_cmid, content, null, _clock += 1000, directPeer);
        return (await _store.AppendAsync([m], None))[0].Message;
    }

    private Task<StoredMessage> DirectAsync(string from, string to, string content) => SendAsync(ChatRef.Direct(from, to), from, content, to);

    private async Task<string[]> FindAsync(string user, string query, string? chatId = null, long? before = null, int limit = 20) =>
        (await _store.SearchMessagesAsync(user, SearchText.Words(query), chatId, before, limit, None)).Select(m => m.Content).ToArray();

    [StoreFact]
    public async Task Every_query_word_is_a_prefix_of_some_word_ignoring_case_and_diacritics()
    {
        string a = await UserAsync("alice"), b = await UserAsync("bob");
        await DirectAsync(a, b, "Meet at the Cafe before the conference");
        await DirectAsync(b, a, "le café est fermé, 2024 édition");
        await DirectAsync(a, b, "nothing to see here");

        Assert.Equal(["le café est fermé, 2024 édition", "Meet at the Cafe before the conference"], await FindAsync(a, "café"));
        Assert.Equal(["le café est fermé, 2024 édition", "Meet at the Cafe before the conference"], await FindAsync(b, "CAFE"));
        Assert.Equal(["Meet at the Cafe before the conference"], await FindAsync(a, "conf"));
        Assert.Equal(["Meet at the Cafe before the conference"], await FindAsync(a, "conference cafe"));
        Assert.Equal(["Meet at the Cafe before the conference"], await FindAsync(a, "caf conf meet"));
        Assert.Equal(["le café est fermé, 2024 édition"], await FindAsync(a, "FERME edit 20"));
        Assert.Empty(await FindAsync(a, "ference")); // inside a word is not a prefix
        Assert.Empty(await FindAsync(a, "cafe nothing")); // every word must match the same message
        Assert.Empty(await FindAsync(a, "conferences"));
    }

    [StoreFact]
    public async Task Query_syntax_of_the_engines_is_just_words()
    {
        string a = await UserAsync("alice"), b = await UserAsync("bob");
        await DirectAsync(a, b, "near the and gate: x-ray (not) \"quoted\" star*");
        await DirectAsync(a, b, "something else");
        foreach (string q in new[] { "\"quoted\"", "star*", "AND", "NEAR(", "near(the", "x-ray", "gate:", "(not)", "NOT", "AND and", "^near", "'the'", "gate:near", "{near}", "x -ray" })
            Assert.Equal(["near the and gate: x-ray (not) \"quoted\" star*"], await FindAsync(a, q));
        Assert.Empty(await FindAsync(a, "\"AND\" missing"));
    }

    [StoreFact]
    public async Task Only_chats_the_caller_is_a_member_of_now()
    {
        string a = await UserAsync("alice"), b = await UserAsync("bob"), stranger = await UserAsync("stranger"), other = await UserAsync("other");
        string leaver = await UserAsync("leaver");
        string group = await GroupAsync(a, b, leaver);
        string otherGroup = await GroupAsync(other, stranger);
        await DirectAsync(a, b, "secret plan alpha");
        await SendAsync(group, a, "secret group plan");
        await SendAsync(otherGroup, other, "secret other plan");

        Assert.Equal(["secret group plan", "secret plan alpha"], await FindAsync(a, "secret"));
        Assert.Equal(["secret group plan", "secret plan alpha"], await FindAsync(b, "secret"));
        Assert.Equal(["secret group plan"], await FindAsync(leaver, "secret"));
        Assert.Equal(["secret other plan"], await FindAsync(other, "secret"));
        Assert.Equal(["secret other plan"], await FindAsync(stranger, "plan"));
        Assert.Empty(await FindAsync(await UserAsync("nobody"), "secret"));

        // An ex-member: nothing from the chat they left, not even what was sent while they were in it.
        Assert.True(await _store.RemoveMemberAsync(group, leaver, None));
        Assert.Empty(await FindAsync(leaver, "secret"));
        // One chat only; a chat the caller is not in gives nothing even when named.
        Assert.Equal(["secret group plan"], await FindAsync(a, "secret", group));
        Assert.Empty(await FindAsync(stranger, "secret", group));
        Assert.Empty(await FindAsync(leaver, "secret", group));
    }

    [StoreFact]
    public async Task Edits_and_tombstones_on_the_row_change_what_matches()
    {
        string a = await UserAsync("alice"), b = await UserAsync("bob");
        var first = await DirectAsync(a, b, "original words here");
        var second = await DirectAsync(a, b, "to be deleted soon");
        var third = await DirectAsync(a, b, "original too");

        await SetContentAsync(first.ChatId, first.Seq, "replacement text");
        Assert.Equal(["original too"], await FindAsync(a, "original"));
        Assert.Equal(["replacement text"], await FindAsync(a, "replac"));
        Assert.Empty(await FindAsync(a, "words"));

        await SetContentAsync(second.ChatId, second.Seq, ""); // a tombstone: content erased
        Assert.Empty(await FindAsync(a, "deleted"));
        Assert.Empty(await FindAsync(b, "soon"));

        // Edited twice, then back: the index follows each state; an attachment-only edit (empty) then text again.
        await SetContentAsync(third.ChatId, third.Seq, "");
        Assert.Empty(await FindAsync(a, "original"));
        await SetContentAsync(third.ChatId, third.Seq, "original again");
        Assert.Equal(["original again"], await FindAsync(a, "original"));
        var fourth = await DirectAsync(a, b, "original newest");
        Assert.Equal(["original newest", "original again"], await FindAsync(a, "orig"));
        Assert.Equal(4, fourth.Seq);
    }

    [StoreFact]
    public async Task Newest_first_with_limit_and_before()
    {
        string a = await UserAsync("alice"), b = await UserAsync("bob");
        string group = await GroupAsync(a, b);
        var sent = new List<StoredMessage>();
        for (int i = 1; i <= 7; i++)
            sent.Add(i % 2 == 0 ? await SendAsync(group, b, $"report {i}") : await DirectAsync(a, b, $"report {i}"));

        Assert.Equal(["report 7", "report 6", "report 5"], await FindAsync(a, "report", limit: 3));
        Assert.Equal(["report 4", "report 3", "report 2"], await FindAsync(a, "report", before: sent[4].Timestamp, limit: 3));
        Assert.Equal(["report 1"], await FindAsync(a, "report", before: sent[1].Timestamp, limit: 3));
        Assert.Equal(["report 6", "report 4", "report 2"], await FindAsync(a, "report", group));
        var full = await _store.SearchMessagesAsync(a, ["report"], null, null, 1, None);
        Assert.Equal(sent[6], full.Single());
    }

    [StoreFact]
    public async Task People_by_username_or_a_word_of_the_display_name()
    {
        string ann = await UserAsync("annabel", "Annabel Lee");
        string bob = await UserAsync("bob.smith", "Robert Anderson");
        string elo = await UserAsync("elodie", "Élodie Ünal");
        await UserAsync("zed", "Zed");
        static string[] Names(IReadOnlyList<UserRecord> users) => users.Select(u => u.UserId).ToArray();

        Assert.Equal([ann, bob], Names(await _store.SearchUsersAsync("an", 20, None)));
        Assert.Equal([bob], Names(await _store.SearchUsersAsync("bob.", 20, None)));
        Assert.Equal([bob], Names(await _store.SearchUsersAsync("rob", 20, None)));
        Assert.Equal([elo], Names(await _store.SearchUsersAsync("élo", 20, None)));
        Assert.Equal([elo], Names(await _store.SearchUsersAsync("ün", 20, None)));
        Assert.Empty(await _store.SearchUsersAsync("nabel", 20, None)); // not a word start
        Assert.Empty(await _store.SearchUsersAsync("%", 20, None));
        Assert.Empty(await _store.SearchUsersAsync("_", 20, None));
        Assert.Single(await _store.SearchUsersAsync("an", 1, None));
    }

    [StoreFact]
    public async Task A_database_from_before_search_is_indexed_when_it_opens()
    {
        string a = await UserAsync("alice"), b = await UserAsync("bob");
        for (int i = 1; i <= 30; i++) await DirectAsync(a, b, $"history number {i}");
        await ForgetSearchIndexAsync();
        await CloseAllAsync();

        _store = await OpenAsync();
        var found = await FindAsync(a, "histo", limit: 50);
        Assert.Equal(Enumerable.Range(1, 30).Reverse().Select(i => $"history number {i}"), found);
        // New messages after the migration come first, and the old ones stay reachable by paging.
        await DirectAsync(b, a, "history continues");
        Assert.Equal(["history continues", "history number 30"], await FindAsync(a, "history", limit: 2));
    }
}
