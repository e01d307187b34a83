"""Logging, JSON, retry and dict helpers used by the team's Lambda functions."""

import functools
import json
import logging
import sys
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Type, TypeVar

T = TypeVar("T")

_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class _FrameworkStreamHandler(logging.StreamHandler):
    """Marks the handler setup_logger adds, so asking twice does not log twice."""


def setup_logger(name: str, level: int = logging.INFO) -> logging.Logger:
    """A logger writing to stderr, configured once however often it is asked for.

    Lambda ships stderr to CloudWatch Logs, so this is all a function needs by default.
    """
    logger = logging.getLogger(name)
    logger.setLevel(level)
    if not any(isinstance(h, _FrameworkStreamHandler) for h in logger.handlers):
        handler = _FrameworkStreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_LOG_FORMAT))
        logger.addHandler(handler)
    logger.propagate = False
    return logger


def safe_json_loads(text: Any, default: Any = None) -> Any:
    """Parses JSON text, returning ``default`` for None, bad JSON or a non-string."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def safe_json_dumps(value: Any, default: Optional[str] = None, **kwargs: Any) -> Optional[str]:
    """Serialises to JSON, rendering unknown types with ``str``; ``default`` if that fails."""
    kwargs.setdefault("default", str)
    try:
        return json.dumps(value, **kwargs)
    except (TypeError, ValueError):
        return default


def retry(
    max_attempts: int = 3,
    delay: float = 0.5,
    backoff: float = 2.0,
    exceptions: Tuple[Type[BaseException], ...] = (Exception,),
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Retries the decorated call on ``exceptions``, waiting ``delay * backoff**n`` between."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def decorator(func: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            wait = delay
            for attempt in range(1, max_attempts + 1):
                try:
                    return func(*args, **kwargs)
                except exceptions:
                    if attempt == max_attempts:
                        raise
                    time.sleep(wait)
                    wait *= backoff
            raise AssertionError("unreachable")

        return wrapper

    return decorator


def flatten_dict(value: Dict[str, Any], parent_key: str = "", sep: str = ".") -> Dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    flat: Dict[str, Any] = {}
    for key, item in value.items():
        full_key = f"{parent_key}{sep}{key}" if parent_key else str(key)
        if isinstance(item, dict) and item:
            flat.update(flatten_dict(item, full_key, sep))
        else:
            flat[full_key] = item
    return flat


def get_nested_value(value: Any, path: str, default: Any = None, sep: str = ".") -> Any:
    """``get_nested_value({"a": {"b": [5]}}, "a.b.0")`` -> ``5``; ``default`` if absent."""
    current = value
    for part in path.split(sep):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, (list, tuple)) and part.lstrip("-").isdigit():
            index = int(part)
            if -len(current) <= index < len(current):
                current = current[index]
            else:
                return default
        else:
            return default
    return current


def chunk_list(items: Iterable[T], size: int) -> List[List[T]]:
    """Splits ``items`` into lists of at most ``size`` elements."""
    if size < 1:
        raise ValueError("size must be at least 1")
    items = list(items)
    return [items[i : i + size] for i in range(0, len(items), size)]
