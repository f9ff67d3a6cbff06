using Chat.Core.Domain;

namespace Chat.Tests.Core;

/// <summary>
/// Chat ids: a group id is any id without '_'; a direct chat is "{a}_{b}" with the two user ids in ordinal order
/// (a chat with oneself is "{a}_{a}"). Every chat_id from a client goes through <see cref="ChatRef.TryParse"/>.
/// </summary>
public sealed class ChatRefTests
{
    [Theory]
    [InlineData("g")]
    [InlineData("0190a1b2c3d4e5f60718293a4b5c6d7e")]
    [InlineData("team-room.42")]
    public void An_id_without_an_underscore_is_a_group(string id)
    {
        Assert.True(ChatRef.TryParse(id, out var chat));
        Assert.Equal(new ChatRef(id, null, null), chat);
        Assert.False(chat.IsDirect);
        Assert.Null(chat.Other("g"));
    }

    [Fact]
    public void A_direct_id_names_both_users_in_order()
    {
        Assert.True(ChatRef.TryParse("alice_bob", out var chat));
        Assert.True(chat.IsDirect);
        Assert.Equal(new ChatRef("alice_bob", "alice", "bob"), chat);
        Assert.Equal("bob", chat.Other("alice"));
        Assert.Equal("alice", chat.Other("bob"));
        Assert.Null(chat.Other("carol"));
        Assert.Null(chat.Other("Alice")); // ids are compared exactly
    }

    [Fact]
    public void A_chat_with_oneself_has_the_same_user_twice()
    {
        Assert.Equal("me_me", ChatRef.Direct("me", "me"));
        Assert.True(ChatRef.TryParse("me_me", out var chat));
        Assert.Equal(new ChatRef("me_me", "me", "me"), chat);
        Assert.True(chat.IsDirect);
        Assert.Equal("me", chat.Other("me"));
        Assert.Null(chat.Other("you"));
    }

    [Theory]
    [InlineData("a", "b", "a_b")]
    [InlineData("b", "a", "a_b")]
    [InlineData("a", "B", "B_a")]     // ordinal: upper case sorts first
    [InlineData("ab", "a", "a_ab")]   // a prefix sorts first
    [InlineData("10", "9", "10_9")]   // characters, not numbers
    public void Direct_sorts_the_two_ids_ordinally(string u1, string u2, string expected) =>
        Assert.Equal(expected, ChatRef.Direct(u1, u2));

    [Fact]
    public void Direct_ids_of_real_user_ids_parse_back_to_the_same_users_either_way_round()
    {
        for (int i = 0; i < 50; i++)
        {
            string a = Ids.NewId(), b = Ids.NewId();
            string id = ChatRef.Direct(a, b);
            Assert.Equal(id, ChatRef.Direct(b, a));
            Assert.True(ChatRef.TryParse(id, out var chat));
            Assert.Equal(id, chat.Id);
            Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal), new[] { chat.UserA!, chat.UserB! });
            Assert.Equal(b, chat.Other(a));
            Assert.Equal(a, chat.Other(b));
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("_")]
    [InlineData("_b")]          // empty first half
    [InlineData("a_")]          // empty second half
    [InlineData("b_a")]         // not sorted: the same chat has exactly one id
    [InlineData("B_a_")]
    [InlineData("a__b")]        // double '_'
    [InlineData("a_b_c")]       // three parts
    [InlineData("a_b_")]
    [InlineData("__")]
    public void Bad_shapes_are_refused(string? id)
    {
        Assert.False(ChatRef.TryParse(id, out var chat));
        Assert.Equal(default, chat);
    }

    [Fact]
    public void Ids_longer_than_200_characters_are_refused_whatever_their_shape()
    {
        Assert.True(ChatRef.TryParse(new string('g', 200), out _));
        Assert.False(ChatRef.TryParse(new string('g', 201), out _));

        string a = new('a', 100), b = new('b', 99);
        Assert.True(ChatRef.TryParse(ChatRef.Direct(a, b), out var chat)); // exactly 200
        Assert.Equal((a, b), (chat.UserA, chat.UserB));
        Assert.False(ChatRef.TryParse(ChatRef.Direct(a, b + "b"), out _));
    }
}
