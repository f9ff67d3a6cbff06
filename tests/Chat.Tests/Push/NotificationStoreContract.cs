using Chat.Core.Domain;
using Chat.Core.Notifications;
using Chat.Core.Storage;

namespace Chat.Tests.Storage;

// The notification part of the store contract (INotificationStore), run on SQLite and PostgreSQL like the rest.
public abstract partial class StoreContract
{
    private INotificationStore Notifications => _store;

    private async Task<string> NewDeviceAsync(string userId)
    {
        string id = Ids.NewId();
        await Users.CreateDeviceAsync(new DeviceRecord(id, userId, "dev", "hash-" + id, Now(), Now()), None);
        return id;
    }

    private static PushSubscriptionRecord Subscription(string deviceId, string userId, string endpoint) =>
        new(deviceId, userId, endpoint, "p256dh-" + deviceId, "auth-" + deviceId, 1_700_000_000_000);

    [StoreFact]
    public async Task Chat_settings_are_absent_until_set_then_replaced_per_user_and_chat()
    {
        string a = await NewUserAsync(), b = await NewUserAsync();
        string g1 = await NewGroupAsync(a, b), g2 = await NewGroupAsync(a, b);
        Assert.Null(await Notifications.GetChatSettingsAsync(a, g1, None));

        await Notifications.SetChatSettingsAsync(new ChatSettingsRecord(a, g1, "mentions", 1_800_000_000_000), None);
        await Notifications.SetChatSettingsAsync(new ChatSettingsRecord(a, g1, "none", null), None);
        await Notifications.SetChatSettingsAsync(new ChatSettingsRecord(a, g2, "mentions", 42), None);
        await Notifications.SetChatSettingsAsync(new ChatSettingsRecord(b, g1, "all", 7), None);

        Assert.Equal(new ChatSettingsRecord(a, g1, "none", null), await Notifications.GetChatSettingsAsync(a, g1, None));
        var listed = await Notifications.ListChatSettingsAsync(a, [g1, g2, "other"], None);
        Assert.Equal([new ChatSettingsRecord(a, g1, "none", null), new ChatSettingsRecord(a, g2, "mentions", 42)], listed.OrderBy(s => s.ChatId == g2));
        Assert.Empty(await Notifications.ListChatSettingsAsync(a, ["other"], None));
        Assert.Equal(new ChatSettingsRecord(b, g1, "all", 7), await Notifications.GetChatSettingsAsync(b, g1, None));
    }

    [StoreFact]
    public async Task A_device_has_one_push_subscription_and_a_stale_endpoint_does_not_delete_the_new_one()
    {
        string u = await NewUserAsync();
        string d = await NewDeviceAsync(u);
        await Notifications.SavePushSubscriptionAsync(Subscription(d, u, "https://push.example/old"), None);
        await Notifications.SavePushSubscriptionAsync(Subscription(d, u, "https://push.example/new"), None);
        Assert.Equal(Subscription(d, u, "https://push.example/new"), await Notifications.GetPushSubscriptionAsync(d, None));

        Assert.False(await Notifications.DeletePushSubscriptionAsync(d, "https://push.example/old", None));
        Assert.NotNull(await Notifications.GetPushSubscriptionAsync(d, None));
        Assert.True(await Notifications.DeletePushSubscriptionAsync(d, "https://push.example/new", None));
        Assert.Null(await Notifications.GetPushSubscriptionAsync(d, None));

        await Notifications.SavePushSubscriptionAsync(Subscription(d, u, "https://push.example/again"), None);
        Assert.True(await Notifications.DeletePushSubscriptionAsync(d, null, None));
        Assert.False(await Notifications.DeletePushSubscriptionAsync(d, null, None));
    }

    [StoreFact]
    public async Task Push_targets_are_live_subscribed_devices_of_the_users_with_their_settings_and_unread_count()
    {
        string a = await NewUserAsync(), b = await NewUserAsync(), c = await NewUserAsync();
        string g = await NewGroupAsync(a, b, c);
        string b1 = await NewDeviceAsync(b), b2 = await NewDeviceAsync(b), bRevoked = await NewDeviceAsync(b), c1 = await NewDeviceAsync(c);
        foreach (var (dev, user) in new[] { (b1, b), (b2, b), (bRevoked, b), (c1, c) })
            await Notifications.SavePushSubscriptionAsync(Subscription(dev, user, "https://push.example/" + dev), None);
        Assert.True(await Users.RevokeDeviceAsync(b, bRevoked, None));
        await Notifications.SetChatSettingsAsync(new ChatSettingsRecord(c, g, "mentions", 99), None);

        // a sends 3, b sends 1; b read up to seq 1, c read nothing.
        await Messages.AppendAsync([ToGroup(g, a, "m1", Now()), ToGroup(g, a, "m2", Now()), ToGroup(g, b, "m3", Now()), ToGroup(g, a, "m4", Now())], None);
        await Pointers.AdvanceReadAsync(b, g, 1, None);

        var targets = await Notifications.GetPushTargetsAsync(g, [b, c], None);
        var byDevice = targets.ToDictionary(t => t.Subscription.DeviceId);
        Assert.Equal(new HashSet<string> { b1, b2, c1 }, byDevice.Keys.ToHashSet());
        Assert.Equal(Subscription(b1, b, "https://push.example/" + b1), byDevice[b1].Subscription);
        Assert.Equal("all", byDevice[b1].Notify);
        Assert.Null(byDevice[b1].MutedUntil);
        Assert.Equal(2, byDevice[b1].UnreadCount); // m2, m4
        Assert.Equal("mentions", byDevice[c1].Notify);
        Assert.Equal(99, byDevice[c1].MutedUntil);
        Assert.Equal(4, byDevice[c1].UnreadCount);
        Assert.Empty(await Notifications.GetPushTargetsAsync(g, [a], None));
        Assert.Single(await Notifications.GetPushTargetsAsync(g, [c], None));
    }
}
