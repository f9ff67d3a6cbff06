using Chat.Core.Storage;

namespace Chat.Tests.Storage;

/// <summary>v1.1 rich messages in every store: gap-free revs, edit history, reaction order, the emoji cap, erasing deletes.</summary>
public abstract partial class StoreContract
{
    private IRichMessageStore Rich => _store;

    [StoreFact]
    public async Task Rich_changes_take_gap_free_revs_under_concurrency_from_two_instances()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b");
        var sent = await Messages.AppendAsync([Direct(a, b, "1", Now()), Direct(a, b, "2", Now())], None);
        if (await OpenSecondAsync() is not { } second) return;
        var m1 = sent[0].Message;
        var m2 = sent[1].Message;
        var tasks = new List<Task<ChangeResult>>();
        for (int i = 0; i < 10; i++)
        {
            var store = (IRichMessageStore)(i % 2 == 0 ? _store : second);
            tasks.Add(store.ReactAsync(m1.ChatId, m1.MessageId, i % 3 == 0 ? a : b, $"e{i}", add: true, 20, None));
            tasks.Add(store.EditMessageAsync(m2.ChatId, m2.MessageId, a, $"v{i}", [], Now(), None));
        }
        var results = await Task.WhenAll(tasks);
        Assert.All(results, r => Assert.Equal(ChangeOutcome.Changed, r.Outcome));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), results.Select(r => r.Message!.Rev).Order());
        Assert.Equal(20, await Rich.GetChatRevAsync(m1.ChatId, None));
        var edits = await Rich.GetEditsAsync(m2.ChatId, m2.Seq, None);
        Assert.Equal(10, edits.Count);
        Assert.Equal("hi 2", edits[0].Content);
        // Nothing to do takes no rev.
        var again = await Rich.ReactAsync(m1.ChatId, m1.MessageId, b, "e1", add: true, 20, None);
        Assert.Equal(ChangeOutcome.Unchanged, again.Outcome);
        Assert.Equal(ChangeOutcome.Unchanged, (await Rich.ReactAsync(m1.ChatId, m1.MessageId, b, "absent", add: false, 20, None)).Outcome);
        Assert.Equal(20, await Rich.GetChatRevAsync(m1.ChatId, None));
        var changes = await Rich.GetChangesAsync(m1.ChatId, 0, 100, None);
        Assert.Equal(2, changes.Count);
        Assert.True(changes[0].Rev < changes[1].Rev);
    }

    [StoreFact]
    public async Task Reactions_keep_first_reaction_order_and_cap_distinct_emoji()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b");
        var m = (await Messages.AppendAsync([Direct(a, b, "1", Now())], None))[0].Message;
        await Rich.ReactAsync(m.ChatId, m.MessageId, b, "x", true, 3, None);
        await Rich.ReactAsync(m.ChatId, m.MessageId, a, "y", true, 3, None);
        await Rich.ReactAsync(m.ChatId, m.MessageId, a, "x", true, 3, None);
        await Rich.ReactAsync(m.ChatId, m.MessageId, a, "z", true, 3, None);
        Assert.Equal(ChangeOutcome.TooManyEmoji, (await Rich.ReactAsync(m.ChatId, m.MessageId, b, "w", true, 3, None)).Outcome);
        Assert.Equal(ChangeOutcome.Changed, (await Rich.ReactAsync(m.ChatId, m.MessageId, b, "z", true, 3, None)).Outcome);
        var rows = await Rich.GetReactionsAsync(m.ChatId, [m.Seq], None);
        Assert.Equal([("x", b), ("y", a), ("x", a), ("z", a), ("z", b)], rows.Select(r => (r.Emoji, r.UserId)));
        Assert.Equal(ChangeOutcome.NotAllowed, (await Rich.EditMessageAsync(m.ChatId, m.MessageId, b, "x", [], Now(), None)).Outcome);
        Assert.Equal(ChangeOutcome.EmptyContent, (await Rich.EditMessageAsync(m.ChatId, m.MessageId, a, "", [], Now(), None)).Outcome);
        Assert.Equal(ChangeOutcome.NotFound, (await Rich.EditMessageAsync(m.ChatId, Guid.NewGuid().ToString(), a, "x", [], Now(), None)).Outcome);
    }

    [StoreFact]
    public async Task Delete_erases_content_mentions_reactions_and_edit_history()
    {
        string a = await NewUserAsync("a"), b = await NewUserAsync("b");
        var m = (await Messages.AppendAsync([Direct(a, b, "1", Now(), content: "secret one") with { Mentions = [b] }], None))[0].Message;
        Assert.Equal([b], (await Messages.GetMessageAsync(m.MessageId, None))!.Mentions);
        await Rich.EditMessageAsync(m.ChatId, m.MessageId, a, "secret two", [b], Now(), None);
        await Rich.ReactAsync(m.ChatId, m.MessageId, b, "x", true, 20, None);
        Assert.Equal(ChangeOutcome.NotAllowed, (await Rich.DeleteMessageAsync(m.ChatId, m.MessageId, b, Now(), None)).Outcome);
        var deleted = await Rich.DeleteMessageAsync(m.ChatId, m.MessageId, a, Now(), None);
        Assert.Equal(ChangeOutcome.Changed, deleted.Outcome);
        Assert.True(deleted.Message!.Deleted);
        Assert.Equal("", deleted.Message.Content);
        Assert.Empty(deleted.Message.Mentions);
        Assert.Equal(3, deleted.Message.Rev);
        Assert.Empty(await Rich.GetEditsAsync(m.ChatId, m.Seq, None));
        Assert.Empty(await Rich.GetReactionsAsync(m.ChatId, [m.Seq], None));
        Assert.Equal(ChangeOutcome.Deleted, (await Rich.EditMessageAsync(m.ChatId, m.MessageId, a, "x", [], Now(), None)).Outcome);
        Assert.Equal(ChangeOutcome.Deleted, (await Rich.DeleteMessageAsync(m.ChatId, m.MessageId, a, Now(), None)).Outcome);
        Assert.Equal(0, await CountRowsContainingAsync("secret"));
    }

    /// <summary>Rows of messages, message_edits and message_reactions whose text contains the needle, read directly from the database.</summary>
    protected abstract Task<long> CountRowsContainingAsync(string needle);
}
