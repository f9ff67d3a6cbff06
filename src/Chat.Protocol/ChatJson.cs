using System.Text.Json;
using System.Text.Json.Serialization;

namespace Chat.Protocol;

/// <summary>Source-generated JSON for every wire type: snake_case, nulls omitted, no reflection.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(ClientFrame))]
[JsonSerializable(typeof(ReadyFrame))]
[JsonSerializable(typeof(AckFrame))]
[JsonSerializable(typeof(MessageFrame))]
[JsonSerializable(typeof(DeliveryReceiptFrame))]
[JsonSerializable(typeof(ReadReceiptFrame))]
[JsonSerializable(typeof(SyncReadFrame))]
[JsonSerializable(typeof(TypingFrame))]
[JsonSerializable(typeof(PresenceFrame))]
[JsonSerializable(typeof(GroupUpdateFrame))]
[JsonSerializable(typeof(HeartbeatAckFrame))]
[JsonSerializable(typeof(ErrorFrame))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(AuthResponse))]
[JsonSerializable(typeof(DeviceList))]
[JsonSerializable(typeof(MeDto))]
[JsonSerializable(typeof(LimitsDto))]
[JsonSerializable(typeof(RegistrationDto))]
[JsonSerializable(typeof(CreateInviteRequest))]
[JsonSerializable(typeof(InviteCreatedDto))]
[JsonSerializable(typeof(InviteList))]
[JsonSerializable(typeof(UserDto))]
[JsonSerializable(typeof(UserList))]
[JsonSerializable(typeof(PresenceList))]
[JsonSerializable(typeof(DirectChatRequest))]
[JsonSerializable(typeof(ChatIdResponse))]
[JsonSerializable(typeof(CreateGroupRequest))]
[JsonSerializable(typeof(UpdateGroupRequest))]
[JsonSerializable(typeof(AddMembersRequest))]
[JsonSerializable(typeof(GroupDto))]
[JsonSerializable(typeof(GroupEventsResponse))]
[JsonSerializable(typeof(ChatList))]
[JsonSerializable(typeof(MessagePage))]
[JsonSerializable(typeof(ReceiptList))]
[JsonSerializable(typeof(ReadRequest))]
[JsonSerializable(typeof(UploadUrlRequest))]
[JsonSerializable(typeof(UploadUrlResponse))]
[JsonSerializable(typeof(ChatSettingsDto))]
[JsonSerializable(typeof(VapidPublicKeyResponse))]
[JsonSerializable(typeof(PushSubscriptionRequest))]
[JsonSerializable(typeof(PushPayload))]
[JsonSerializable(typeof(SearchResults))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(MessageUpdatedFrame))]
[JsonSerializable(typeof(MessageDto))]
[JsonSerializable(typeof(ChangesPage))]
[JsonSerializable(typeof(EditList))]
[JsonSerializable(typeof(UpdateMeRequest))]
[JsonSerializable(typeof(ChangePasswordRequest))]
[JsonSerializable(typeof(RenameDeviceRequest))]
[JsonSerializable(typeof(BlockRequest))]
[JsonSerializable(typeof(PrivacySettingsPatch))]
public sealed partial class ChatJson : JsonSerializerContext;

/// <summary>Serialize once, send many: an event already encoded as UTF-8 JSON.</summary>
public static class Frames
{
    public static byte[] Encode<T>(T frame) =>
        JsonSerializer.SerializeToUtf8Bytes(frame, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)ChatJson.Default.GetTypeInfo(typeof(T))!);
}
