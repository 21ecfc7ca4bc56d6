"""Unbound extension objects; `create_app` binds them with `init_app`."""

from typing import TYPE_CHECKING

from flask_caching import Cache
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
#: The models' base class. At run time it is Flask-SQLAlchemy's `db.Model` (Base plus the
#: session binding); mypy cannot see through `db.Model`, so it checks the models against Base.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
#: Rate limits (login, sign-in links, registration): Redis when REDIS_URL is set, else memory.
limiter = Limiter(key_func=get_remote_address)
#: The programme page's rendered parts (catalogue/page_cache.py): settings CACHE_* in config.py.
cache = Cache()
#: Responses compressed with brotli or gzip, as the browser accepts (settings COMPRESS_*).
compress = Compress()
