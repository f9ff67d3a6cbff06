using Microsoft.Extensions.DependencyInjection;

namespace Chat.Core.Storage;

public static class StoreRegistration
{
    /// <summary>
    /// Registers one <see cref="IChatStore"/> implementation behind every store seam (the same instance for all).
    /// Each storage adapter's <c>Add…ChatStore</c> calls this with how to make its store.
    /// </summary>
    public static IServiceCollection AddChatStore<TStore>(this IServiceCollection services, Func<IServiceProvider, TStore> create)
        where TStore : class, IChatStore
    {
        services.AddSingleton(create);
        services.AddSingleton<IChatStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IUserStore>(sp => sp.GetRequiredService<IChatStore>());
        services.AddSingleton<IGroupStore>(sp => sp.GetRequiredService<IChatStore>());
        services.AddSingleton<IMessageStore>(sp => sp.GetRequiredService<IChatStore>());
        services.AddSingleton<IPointerStore>(sp => sp.GetRequiredService<IChatStore>());
        services.AddSingleton<IFileStore>(sp => sp.GetRequiredService<IChatStore>());
        services.AddSingleton<IStoreHealth>(sp => sp.GetRequiredService<IChatStore>());
        services.AddSingleton<IRichMessageStore>(sp => sp.GetRequiredService<IChatStore>());
        services.AddSingleton<Notifications.INotificationStore>(sp => sp.GetRequiredService<IChatStore>());
        services.AddSingleton<Search.ISearchStore>(sp => sp.GetRequiredService<IChatStore>());
        services.AddSingleton<IPrivacyStore>(sp => sp.GetRequiredService<IChatStore>());
        return services;
    }
}
