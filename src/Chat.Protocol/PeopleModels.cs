namespace Chat.Protocol;

// Profile and security bodies (PROTOCOL.md v1.1, "People, groups, privacy").

public sealed record UpdateMeRequest(string? DisplayName = null, PrivacySettingsPatch? Settings = null);
/// <summary>The switches to change; an absent one keeps its value.</summary>
public sealed record PrivacySettingsPatch(bool? SendReadReceipts = null, bool? SharePresence = null);
public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);
public sealed record RenameDeviceRequest(string? DeviceName);
public sealed record BlockRequest(string? UserId);
