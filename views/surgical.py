import streamlit as st

st.title("WIP")
