# Flask-WTF 1.2: only the names Xinqiao uses.
from flask_wtf.csrf import CSRFProtect as CSRFProtect
from flask_wtf.form import FlaskForm as FlaskForm
