from flask import Blueprint

bp = Blueprint("opinions", __name__)
