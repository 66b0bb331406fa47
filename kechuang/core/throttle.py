"""Failed-login throttling: after LOGIN_MAX_FAILURES failures for a username or an address,
further attempts are refused for LOGIN_LOCK_SECONDS, whatever the password."""

from django.conf import settings
from django.core.cache import cache

LOCKED_MESSAGE = "登录失败次数过多，账号或地址已被暂时锁定，请{minutes}分钟后再试。"


def _keys(username: str, address: str) -> list[str]:
    return [f"login-fail:user:{username.strip().lower()}", f"login-fail:addr:{address}"]


def is_locked(username: str, address: str) -> bool:
    return any(cache.get(key, 0) >= settings.LOGIN_MAX_FAILURES for key in _keys(username, address))


def record_failure(username: str, address: str) -> None:
    for key in _keys(username, address):
        cache.add(key, 0, settings.LOGIN_LOCK_SECONDS)
        cache.incr(key)


def clear(username: str, address: str) -> None:
    cache.delete_many(_keys(username, address))


def locked_message() -> str:
    return LOCKED_MESSAGE.format(minutes=max(1, settings.LOGIN_LOCK_SECONDS // 60))
